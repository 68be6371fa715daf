// A TLS write whose records outgrow the room made for them before
// SSL_write. The room is made for records of the size the handshake agreed
// on (2^14 bytes of plaintext); a context whose max_send_fragment is set
// lower through native_handle() makes OpenSSL cut a write into more records
// than that, each with its own header and tag. Checked: such writes arrive
// whole (the records' buffer grows), and with every allocation of the write
// refused in turn (one, and every one from it on) the outcome is one of two:
// the write was refused before OpenSSL saw the bytes (nothing sent, the
// stream goes on), or the records OpenSSL made could not be kept (the
// fallback: they are dropped, the write throws std::bad_alloc, and every
// later write fails with Errc::no_memory; the peer never sees a byte of
// them). The sweep must reach the fallback. Loop thread; certificates made
// at test time.
#include <catch2/catch.hpp>
#include <openssl/ssl.h>

#include <new>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/future/future.h"
#include "core/io/io.h"
#include "core/io/tls_context.h"
#include "core/io/tls_stream.h"
#include "core/loop/loop.h"
#include "tests/core/io/io_test_util.h"
#include "tests/core/io/tls_test_util.h"
#include "tests/core/refusing_new.h"

using weft_test::await;
using weft_test::get;
using weft_test::poll_a_while;
using weft_test::TlsPair;

namespace {

constexpr long kSmallestSendFragment = 512;  // OpenSSL's lower limit
// 40,000 bytes in 512-byte records: 79 records, about 1.7 KB of headers and
// tags, more than the room made for three full-size records.
constexpr std::size_t kWriteSize = 40000;

std::string payload(long tag) {
  std::string text;
  text.reserve(kWriteSize);
  for (std::size_t i = 0; text.size() + 1 < kWriteSize; ++i) text += static_cast<char>('a' + (i + tag) % 26);
  return text + "!";
}

weft::TlsContext small_record_client(const weft_test::Pki& pki) {
  weft::TlsContext context = pki.client();
  REQUIRE(SSL_CTX_set_max_send_fragment(context.native_handle(), kSmallestSendFragment) == 1);
  return context;
}

enum class Outcome { sent, refused_before, dropped };

// On a fresh connection whose client cuts small records, the client writes
// under refusal n (the loop's passes after it under the refusal too), and
// the outcome is checked from both ends.
Outcome write_under_refusal(weft::Loop& loop, weft::TcpListener& listener, const weft_test::Pki& pki,
                            const weft::TlsContext& client_ctx, long n, bool forever, bool& reached) {
  TlsPair pair = weft_test::tls_pair(loop, listener, client_ctx, pki.server());
  const std::string data = payload(n);
  weft_test::empty_read_buffer_pool();  // the records' room is then made to measure
  weft::Future<void> written;
  bool threw = false;
  {
    weft_test::RefuseAllocation refuse(n, forever);
    try {
      written = pair.client.write(data);
    } catch (const std::bad_alloc&) {
      threw = true;
    }
    if (!threw) poll_a_while(loop);
    reached = refuse.reached();
  }
  Outcome outcome = Outcome::sent;
  if (!threw) {
    get(loop, std::move(written));
    REQUIRE(get(loop, pair.server.read_exactly(data.size())) == data);
  } else {
    weft::Result<void> probe = await(loop, pair.client.write("|"));
    if (probe.ok()) {
      outcome = Outcome::refused_before;
      REQUIRE(get(loop, pair.server.read_until("|", data.size() + 1)) == "|");  // nothing of `data`
    } else {
      outcome = Outcome::dropped;
      INFO(probe.error().message());
      REQUIRE(probe.error().code() == weft::Errc::no_memory);
      // The client goes; the server meets the end of the connection, an
      // error or an empty read, and no byte of the dropped records.
      pair.client.close();
      weft::Result<std::string> rest = await(loop, pair.server.read_some());
      if (rest.ok()) REQUIRE(rest.value().empty());
    }
  }
  pair.client.close();
  pair.server.close();
  return outcome;
}

}  // namespace

TEST_CASE("TLS records cut smaller than agreed arrive whole", "[tls]") {
  weft::Loop loop;
  weft_test::Pki pki;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  const weft::TlsContext client_ctx = small_record_client(pki);
  TlsPair pair = weft_test::tls_pair(loop, listener, client_ctx, pki.server());
  for (long round = 0; round < 3; ++round) {
    weft_test::empty_read_buffer_pool();
    const std::string data = payload(round);
    get(loop, pair.client.write(data));
    REQUIRE(get(loop, pair.server.read_exactly(data.size())) == data);
  }
  get(loop, pair.server.write("back"));
  REQUIRE(get(loop, pair.client.read_exactly(4)) == "back");
}

TEST_CASE("TLS records that outgrow their room, memory refused: refused whole or dropped for good", "[tls][alloc]") {
  weft::Loop loop;
  weft_test::Pki pki;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  const weft::TlsContext client_ctx = small_record_client(pki);
  for (bool forever : {false, true}) {
    INFO((forever ? "every allocation from one on" : "one allocation") << " refused");
    int dropped = 0;
    int refused_before = 0;
    long n = 0;
    for (bool reached = true; reached; ++n) {
      REQUIRE(n < 500);
      const Outcome outcome = write_under_refusal(loop, listener, pki, client_ctx, n, forever, reached);
      if (outcome == Outcome::dropped) ++dropped;
      if (outcome == Outcome::refused_before) ++refused_before;
    }
    REQUIRE(refused_before > 0);
    REQUIRE(dropped > 0);  // the sweep reached the fallback
  }
}
