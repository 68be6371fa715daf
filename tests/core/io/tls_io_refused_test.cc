// TlsStream write, read and shutdown when an allocation is refused, swept
// over every allocation of the call and of the loop passes that follow it
// (refusing_new.h counts this thread's: the loop's too), refusing one and
// then every one from it on. A refused call throws std::bad_alloc and
// changed nothing: a refused write sent nothing (the peer's next bytes
// follow the earlier ones), a refused read took nothing (the next reads get
// every byte, in order), a refused shutdown left the stream writing. An
// accepted call completes: a write or shutdown with success, a read with its
// bytes or, when the loop then found no memory, with Errc::no_memory and
// nothing taken. The stream goes on after each. Reads start with this
// thread's read-buffer pool empty, so that they allocate. Certificates are
// made at test time.
#include <catch2/catch.hpp>

#include <new>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/future/future.h"
#include "core/io/io.h"
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

// Runs attempt(n, forever) for n = 0, 1, ... in both modes, until the
// refused allocation is not reached; the operation must allocate somewhere.
template <class Attempt>
void sweep(Attempt attempt) {
  for (bool forever : {false, true}) {
    long n = 0;
    while (attempt(n, forever)) {
      ++n;
      REQUIRE(n < 500);
    }
    INFO((forever ? "every allocation from one on" : "one allocation") << " refused");
    REQUIRE(n > 0);
  }
}

// `size` bytes that differ from one attempt (`tag`) to the next, ending in '!'.
std::string payload(std::size_t size, long tag) {
  std::string text;
  text.reserve(size);
  for (std::size_t i = 0; text.size() + 1 < size; ++i) text += static_cast<char>('a' + (i + tag) % 26);
  return text + "!";
}

// A write of `data` from `from` under refusal n, then the loop's passes
// under it too. Returns whether the refusal was reached.
bool write_under_refusal(weft::Loop& loop, weft::Stream& from, weft::Stream& to, const std::string& data,
                         long n, bool forever) {
  weft::Future<void> written;
  bool refused = false;
  bool reached = false;
  {
    weft_test::RefuseAllocation refuse(n, forever);
    try {
      written = from.write(data);
    } catch (const std::bad_alloc&) {
      refused = true;
    }
    if (!refused) poll_a_while(loop);
    reached = refuse.reached();
  }
  if (!refused) get(loop, std::move(written));
  get(loop, from.write("|"));
  const std::string got = get(loop, to.read_until("|", data.size() + 1));
  REQUIRE(got == (refused ? std::string() : data) + "|");  // a refused write sent nothing
  return reached;
}

void write_sweep(weft::Loop& loop, weft::Stream& from, weft::Stream& to, std::size_t size) {
  sweep([&](long n, bool forever) { return write_under_refusal(loop, from, to, payload(size, n), n, forever); });
}

enum class Read { some, until, exactly };

weft::Future<std::string> start_read(weft::Stream& stream, Read kind, std::size_t size) {
  switch (kind) {
    case Read::some:
      return stream.read_some(size);
    case Read::until:
      return stream.read_until("!", size);
    case Read::exactly:
      break;
  }
  return stream.read_exactly(size);
}

struct ReadCase {
  Read kind;
  std::size_t size;
  bool arrives_later;  // the bytes are written once the read waits, not before
};

// On a fresh connection, the server reads under refusal n, with the client's
// bytes there already (decrypted ahead, or waiting in the transport) or
// written while the read waits (the refusal paused for that); then the loop
// runs under the refusal. Whatever that read did not deliver, the next read
// gets. Returns whether the refusal was reached.
bool read_under_refusal(weft::Loop& loop, weft::TcpListener& listener, const weft_test::Pki& pki,
                        const ReadCase& c, long n, bool forever) {
  TlsPair pair = weft_test::tls_pair(loop, listener, pki.client(), pki.server());
  const std::string sent = payload(c.size, n);
  weft::Future<void> sending;
  if (!c.arrives_later) {
    sending = pair.client.write(sent);
    poll_a_while(loop);
  }
  weft_test::empty_read_buffer_pool();
  weft::Future<std::string> read;
  bool refused = false;
  bool reached = false;
  {
    weft_test::RefuseAllocation refuse(n, forever);
    try {
      read = start_read(pair.server, c.kind, c.size);
    } catch (const std::bad_alloc&) {
      refused = true;
    }
    if (c.arrives_later) {
      refuse.pause();
      sending = pair.client.write(sent);
      refuse.resume();
    }
    poll_a_while(loop);
    reached = refuse.reached();
  }
  get(loop, std::move(sending));
  std::string got;
  if (!refused) {
    weft::Result<std::string> outcome = await(loop, std::move(read));
    if (outcome.ok()) {
      got = std::move(outcome).value();
    } else {
      INFO(outcome.error().message());
      REQUIRE(outcome.error().code() == weft::Errc::no_memory);
    }
  }
  if (got.size() < sent.size()) got += get(loop, pair.server.read_exactly(sent.size() - got.size()));
  REQUIRE(got == sent);  // no byte lost, none twice, in order
  pair.client.close();
  pair.server.close();
  return reached;
}

// On a fresh connection, the client shuts down under refusal n.
bool shutdown_under_refusal(weft::Loop& loop, weft::TcpListener& listener, const weft_test::Pki& pki, long n,
                            bool forever) {
  TlsPair pair = weft_test::tls_pair(loop, listener, pki.client(), pki.server());
  weft::Future<void> shut;
  bool refused = false;
  bool reached = false;
  {
    weft_test::RefuseAllocation refuse(n, forever);
    try {
      shut = pair.client.shutdown();
    } catch (const std::bad_alloc&) {
      refused = true;
    }
    if (!refused) poll_a_while(loop);
    reached = refuse.reached();
  }
  if (refused) {
    get(loop, pair.client.write("still open!"));
    REQUIRE(get(loop, pair.server.read_until("!")) == "still open!");
  } else {
    get(loop, std::move(shut));
    REQUIRE(get(loop, pair.server.read_some()).empty());  // the close_notify: the end
  }
  pair.client.close();
  pair.server.close();
  return reached;
}

}  // namespace

TEST_CASE("a refused TLS write sends nothing, and the stream goes on", "[tls][alloc]") {
  weft::Loop loop;
  weft_test::Pki pki;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  TlsPair pair = weft_test::tls_pair(loop, listener, pki.client(), pki.server());
  for (std::size_t size : {std::size_t{5}, std::size_t{40000}}) {  // one record, and three
    INFO("size " << size);
    write_sweep(loop, pair.client, pair.server, size);
    write_sweep(loop, pair.server, pair.client, size);
  }
}

TEST_CASE("a refused write on TLS over TLS sends nothing at either layer", "[tls][alloc]") {
  weft::Loop loop;
  weft_test::Pki pki;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  TlsPair inner = weft_test::tls_pair(loop, listener, pki.client(), pki.server());
  TlsPair outer = weft_test::tls_handshake(loop, std::move(inner.client), std::move(inner.server), pki.client(),
                                           pki.server());
  write_sweep(loop, outer.client, outer.server, 5);
  write_sweep(loop, outer.server, outer.client, 40000);
}

TEST_CASE("a refused TLS read takes no byte; the next read gets them all", "[tls][alloc]") {
  weft::Loop loop;
  weft_test::Pki pki;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  // 20 bytes: one record, and a result too long to be held without memory.
  const ReadCase cases[] = {
      {Read::some, 20, false},    {Read::until, 20, false},    {Read::exactly, 20, false},
      {Read::some, 20, true},     {Read::until, 20, true},     {Read::exactly, 20, true},
      {Read::until, 40000, false}, {Read::exactly, 40000, false}, {Read::exactly, 40000, true},
  };
  for (const ReadCase& c : cases) {
    INFO("read kind " << static_cast<int>(c.kind) << ", " << c.size << " bytes"
                      << (c.arrives_later ? ", arriving later" : ""));
    sweep([&](long n, bool forever) { return read_under_refusal(loop, listener, pki, c, n, forever); });
  }
}

TEST_CASE("a refused TLS shutdown leaves the stream writing", "[tls][alloc]") {
  weft::Loop loop;
  weft_test::Pki pki;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  sweep([&](long n, bool forever) { return shutdown_under_refusal(loop, listener, pki, n, forever); });
}
