/* A throwaway public-key infrastructure for the TLS tests, made in memory at
 * test time with OpenSSL (no key is ever checked in): a CA, and a server
 * certificate it signs for the names given (DNS name and IP address in the
 * subjectAltName). Certificates and keys are PEM text.
 *
 * C, so that the Catch2, cmocka and fuzz tests share it. Any thread; each
 * call makes fresh keys. The caller frees what it gets with
 * test_pki_free / free.
 */
#ifndef WEFT_TESTS_TLS_CERTS_TEST_PKI_H
#define WEFT_TESTS_TLS_CERTS_TEST_PKI_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct test_pki {
  char* ca_cert;     /* the CA's self-signed certificate */
  char* ca_key;
  char* server_cert; /* signed by the CA, for the names asked for */
  char* server_key;
} test_pki;

/* Makes a CA named `ca_name` and a server certificate for `dns_name` and
 * `ip` (either may be NULL). Returns 0, or -1 (and prints OpenSSL's reason
 * to stderr) on failure. */
int test_pki_make(test_pki* out, const char* ca_name, const char* dns_name, const char* ip);
void test_pki_free(test_pki* pki);

/* Writes `text` to a new file `path`. Returns 0 or -1. */
int test_pki_write_file(const char* path, const char* text);

#ifdef __cplusplus
}
#endif

#endif
