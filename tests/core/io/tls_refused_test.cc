// TlsStream::connect and accept when an allocation is refused: swept over
// every allocation the call makes on the loop thread (refusing_new.h), a
// refused call throws std::bad_alloc and leaves the transport the caller's,
// open and unread (the retry then completes the handshake over it); an
// accepted call's handshake completes. Certificates are made at test time.
#include <catch2/catch.hpp>
#include <new>
#include <string>
#include <utility>

#include "core/future/future.h"
#include "core/io/io.h"
#include "core/io/tls_context.h"
#include "core/io/tls_stream.h"
#include "core/loop/loop.h"
#include "tests/core/io/io_test_util.h"
#include "tests/core/io/tls_test_util.h"
#include "tests/core/refusing_new.h"

using weft_test::get;

namespace {

struct Contexts {
  weft_test::Pki pki;
  weft::TlsContext server = pki.server();
  weft::TlsContext client = pki.client();
};

enum class Side { accept, connect };

// Calls the side's handshake with allocation `n` (or every one from it)
// refused. Returns whether the call was refused; if not, `out` holds its
// future.
bool refused_call(Side side, weft::TcpStream& transport, const Contexts& contexts, long n,
                  bool forever, weft::Future<weft::TlsStream>& out) {
  weft_test::RefuseAllocation refuse(n, forever);
  try {
    out = side == Side::accept
              ? weft::TlsStream::accept(std::move(transport), contexts.server)
              : weft::TlsStream::connect(std::move(transport), contexts.client, {"localhost"});
    return false;
  } catch (const std::bad_alloc&) {
    return true;
  }
}

// One handshake with `side`'s call made under refusal n. Returns whether the
// call was refused.
bool handshake_with_refusal(weft::Loop& loop, weft::TcpListener& listener, const Contexts& contexts,
                            Side side, long n, bool forever) {
  weft_test::Pair tcp = weft_test::connected_pair(loop, listener);
  weft::TcpStream& refused_side = side == Side::accept ? tcp.server : tcp.client;
  weft::Future<weft::TlsStream> under_refusal;
  const bool refused = refused_call(side, refused_side, contexts, n, forever, under_refusal);
  if (refused) {
    REQUIRE(refused_side.is_open());  // still the caller's
    under_refusal =
        side == Side::accept
            ? weft::TlsStream::accept(std::move(refused_side), contexts.server)
            : weft::TlsStream::connect(std::move(refused_side), contexts.client, {"localhost"});
  }
  weft::Future<weft::TlsStream> other =
      side == Side::accept
          ? weft::TlsStream::connect(std::move(tcp.client), contexts.client, {"localhost"})
          : weft::TlsStream::accept(std::move(tcp.server), contexts.server);
  weft::TlsStream mine = get(loop, std::move(under_refusal));
  weft::TlsStream theirs = get(loop, std::move(other));
  // The bytes go through whole: nothing was read or written by a refused call.
  get(loop, theirs.write("after the refusal"));
  REQUIRE(get(loop, mine.read_exactly(17)) == "after the refusal");
  mine.close();
  theirs.close();
  return refused;
}

}  // namespace

TEST_CASE("a refused TLS connect or accept leaves the transport the caller's", "[tls][alloc]") {
  weft::Loop loop;
  Contexts contexts;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  for (Side side : {Side::accept, Side::connect}) {
    for (bool forever : {false, true}) {
      long n = 0;
      while (handshake_with_refusal(loop, listener, contexts, side, n, forever)) {
        ++n;
        REQUIRE(n < 1000);
      }
      INFO("side " << (side == Side::accept ? "accept" : "connect")
                   << (forever ? ", forever" : ", once"));
      REQUIRE(n > 0);  // the call allocates: some refusal was seen
    }
  }
}
