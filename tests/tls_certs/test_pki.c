#include "tests/tls_certs/test_pki.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char* pem_of(int (*write)(BIO*, void*), void* object) {
  BIO* bio = BIO_new(BIO_s_mem());
  char* text = NULL;
  if (bio != NULL && write(bio, object) == 1) {
    char* data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    text = malloc((size_t)n + 1);
    if (text != NULL) {
      memcpy(text, data, (size_t)n);
      text[n] = '\0';
    }
  }
  BIO_free(bio);
  return text;
}

static int write_cert(BIO* bio, void* cert) { return PEM_write_bio_X509(bio, (X509*)cert); }
static int write_key(BIO* bio, void* key) {
  return PEM_write_bio_PrivateKey(bio, (EVP_PKEY*)key, NULL, NULL, 0, NULL, NULL);
}

static int add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  if (ext == NULL) return 0;
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok;
}

/* A certificate for `name` with `key`, signed by `issuer_key` (issuer NULL:
 * self-signed). */
static X509* make_cert(const char* name, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, long serial,
                       const char* san) {
  X509* cert = X509_new();
  if (cert == NULL) return NULL;
  int ok = X509_set_version(cert, 2) && ASN1_INTEGER_set(X509_get_serialNumber(cert), serial) &&
           X509_gmtime_adj(X509_getm_notBefore(cert), -3600) &&
           X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600) && X509_set_pubkey(cert, key);
  X509_NAME* subject = X509_get_subject_name(cert);
  ok = ok && X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC, (const unsigned char*)"weft tests", -1, -1, 0) &&
       X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, (const unsigned char*)name, -1, -1, 0);
  X509* signer = issuer != NULL ? issuer : cert;
  ok = ok && X509_set_issuer_name(cert, X509_get_subject_name(signer));
  if (issuer == NULL) {
    ok = ok && add_ext(cert, signer, NID_basic_constraints, "critical,CA:TRUE") &&
         add_ext(cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign") &&
         add_ext(cert, signer, NID_subject_key_identifier, "hash");
  } else {
    ok = ok && add_ext(cert, signer, NID_basic_constraints, "critical,CA:FALSE") &&
         add_ext(cert, signer, NID_ext_key_usage, "serverAuth,clientAuth") &&
         add_ext(cert, signer, NID_authority_key_identifier, "keyid");
    if (san != NULL && san[0] != '\0') ok = ok && add_ext(cert, signer, NID_subject_alt_name, san);
  }
  ok = ok && X509_sign(cert, issuer_key, EVP_sha256()) > 0;
  if (!ok) {
    X509_free(cert);
    return NULL;
  }
  return cert;
}

int test_pki_make(test_pki* out, const char* ca_name, const char* dns_name, const char* ip) {
  memset(out, 0, sizeof(*out));
  EVP_PKEY* ca_key = EVP_EC_gen("P-256");
  EVP_PKEY* server_key = EVP_EC_gen("P-256");
  X509* ca = NULL;
  X509* server = NULL;
  char san[512] = "";
  if (dns_name != NULL) snprintf(san, sizeof(san), "DNS:%s", dns_name);
  if (ip != NULL) {
    size_t used = strlen(san);
    snprintf(san + used, sizeof(san) - used, "%sIP:%s", used > 0 ? "," : "", ip);
  }
  if (ca_key != NULL && server_key != NULL) ca = make_cert(ca_name, ca_key, NULL, ca_key, 1, NULL);
  if (ca != NULL) {
    server = make_cert(dns_name != NULL ? dns_name : (ip != NULL ? ip : "server"), server_key, ca, ca_key, 2, san);
  }
  int rc = -1;
  if (server != NULL) {
    out->ca_cert = pem_of(write_cert, ca);
    out->ca_key = pem_of(write_key, ca_key);
    out->server_cert = pem_of(write_cert, server);
    out->server_key = pem_of(write_key, server_key);
    if (out->ca_cert && out->ca_key && out->server_cert && out->server_key) rc = 0;
  }
  if (rc != 0) {
    ERR_print_errors_fp(stderr);
    test_pki_free(out);
  }
  X509_free(server);
  X509_free(ca);
  EVP_PKEY_free(server_key);
  EVP_PKEY_free(ca_key);
  return rc;
}

void test_pki_free(test_pki* pki) {
  free(pki->ca_cert);
  free(pki->ca_key);
  free(pki->server_cert);
  free(pki->server_key);
  memset(pki, 0, sizeof(*pki));
}

int test_pki_write_file(const char* path, const char* text) {
  FILE* f = fopen(path, "w");
  if (f == NULL) return -1;
  size_t n = strlen(text);
  int ok = fwrite(text, 1, n, f) == n;
  return fclose(f) == 0 && ok ? 0 : -1;
}
