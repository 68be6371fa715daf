// A bulk TLS transfer on one loop and one thread: a client TlsStream writes
// `count` messages of `size` bytes over loopback TCP to a server TlsStream on
// the same loop, which reads them all with read_some. The writer writes
// while the stream's write_buffered() is at most the write high-water mark,
// then waits on drain(), as a bulk sender does; nothing is awaited per
// message. Both ends' work (encrypting, decrypting, the TCP I/O) runs on the
// calling thread, so the figure is one core's: pin it.
//
//   bazel build --config=opt //tests/bench:tls_bulk
//   chrt -f 50 taskset -c 1 bazel-out/k8-opt/bin/tests/bench/tls_bulk --size 1024 --repeat 5
//
// Options: --size BYTES (per message, default 1024), --count N (messages;
// default: 256 MiB worth, at most 1,000,000), --repeat K (default 3). One
// JSON line per run: size, count, seconds, ns_per_write (wall), cpu_ns_per_write
// (the thread's CPU time), mb_per_s; with K > 1 a line of medians.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/weft.h"
#include "tests/bench/report.h"
#include "tests/bench/timing.h"
#include "tests/tls_certs/test_pki.h"

namespace {

struct Options {
  std::size_t size = 1024;
  std::uint64_t count = 0;
  int repeat = 3;
};

struct Run {
  double seconds = 0;
  double cpu_seconds = 0;
};

template <class T>
T wait_for(weft::Loop& loop, weft::Future<T> future) {
  weft::Result<T> result = weft::run_until_complete(loop, future);
  if (!result.ok()) {
    std::fprintf(stderr, "tls_bulk: %s\n", result.error().message().c_str());
    std::exit(1);
  }
  if constexpr (!std::is_void_v<T>) return std::move(result).value();
}

// The transfer itself: writer and reader continuations on `loop`.
class Transfer {
 public:
  Transfer(weft::Loop& loop, weft::TlsStream& client, weft::TlsStream& server, std::size_t size,
           std::uint64_t count)
      : loop_(loop), client_(client), server_(server), message_(size, 'x'), count_(count),
        total_(static_cast<std::uint64_t>(size) * count) {}

  weft::Future<void> start() {
    auto [promise, future] = weft::make_promise<void>();
    done_ = std::move(promise);
    read_next();
    write_more();
    return std::move(future);
  }

 private:
  void write_more() {
    const std::size_t high = client_.limits().write_high_water;
    while (sent_ < count_ && client_.write_buffered() <= high) {
      (void)client_.write(message_);
      ++sent_;
    }
    if (sent_ < count_) {
      client_.drain().then(loop_, [this](weft::Result<void> drained) {
        if (!drained.ok()) return fail(drained.error());
        write_more();
      });
    }
  }

  void read_next() {
    server_.read_some().then(loop_, [this](weft::Result<std::string> data) {
      if (!data.ok()) return fail(data.error());
      if (data.value().empty()) return fail(weft::Error(weft::Errc::end_of_file, "the stream ended early"));
      received_ += data.value().size();
      if (received_ >= total_) {
        done_.set_value();
      } else {
        read_next();
      }
    });
  }

  void fail(const weft::Error& error) { done_.set_error(error); }

  weft::Loop& loop_;
  weft::TlsStream& client_;
  weft::TlsStream& server_;
  const std::string message_;
  const std::uint64_t count_;
  const std::uint64_t total_;
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
  weft::Promise<void> done_;
};

Run run_once(const test_pki& pki, const Options& options) {
  weft::Loop loop;
  weft::TlsContextOptions server_options;
  server_options.verify_peer = false;
  server_options.cert_pem = pki.server_cert;
  server_options.key_pem = pki.server_key;
  const weft::TlsContext server_context = weft::TlsContext::server(server_options);
  weft::TlsContextOptions client_options;
  client_options.ca_pem = pki.ca_cert;
  const weft::TlsContext client_context = weft::TlsContext::client(client_options);

  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  auto accepted = listener.accept();
  weft::TcpStream tcp_client = wait_for(loop, weft::TcpStream::connect(loop, listener.local_address()));
  weft::TcpStream tcp_server = wait_for(loop, std::move(accepted));
  auto tls_accepted = weft::TlsStream::accept(std::move(tcp_server), server_context);
  weft::TlsStream client =
      wait_for(loop, weft::TlsStream::connect(std::move(tcp_client), client_context, {"localhost"}));
  weft::TlsStream server = wait_for(loop, std::move(tls_accepted));

  Transfer transfer(loop, client, server, options.size, options.count);
  const double cpu_start = bench::thread_cpu_seconds();
  const auto start = bench::now();
  wait_for(loop, transfer.start());
  Run run;
  run.seconds = bench::seconds_between(start, bench::now());
  run.cpu_seconds = bench::thread_cpu_seconds() - cpu_start;
  client.close();
  server.close();
  listener.close();
  loop.close();
  return run;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

void print(const char* kind, const Options& options, double seconds, double cpu_seconds) {
  const auto count = static_cast<double>(options.count);
  bench::JsonLine line;
  line.add("workload", "tls_bulk").add("kind", kind);
  line.add("size", static_cast<std::uint64_t>(options.size)).add("count", options.count);
  line.add("seconds", seconds).add("ns_per_write", seconds * 1e9 / count, 4);
  line.add("cpu_ns_per_write", cpu_seconds * 1e9 / count, 4);
  line.add("mb_per_s", static_cast<double>(options.size) * count / seconds / 1e6, 4);
  std::puts(line.str().c_str());
  std::fflush(stdout);
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--size") == 0 && has_value) {
      options.size = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--count") == 0 && has_value) {
      options.count = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--repeat") == 0 && has_value) {
      options.repeat = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: tls_bulk [--size BYTES] [--count N] [--repeat K]\n");
      std::exit(2);
    }
  }
  if (options.size == 0 || options.repeat < 1) {
    std::fprintf(stderr, "tls_bulk: --size and --repeat must be at least 1\n");
    std::exit(2);
  }
  if (options.count == 0) options.count = std::min<std::uint64_t>(1'000'000, (256u << 20) / options.size + 1);
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  test_pki pki{};
  if (test_pki_make(&pki, "weft bench CA", "localhost", "127.0.0.1") != 0) return 1;
  std::vector<double> seconds;
  std::vector<double> cpu;
  for (int i = 0; i < options.repeat; ++i) {
    const Run run = run_once(pki, options);
    print("run", options, run.seconds, run.cpu_seconds);
    seconds.push_back(run.seconds);
    cpu.push_back(run.cpu_seconds);
  }
  if (options.repeat > 1) print("median", options, median(seconds), median(cpu));
  test_pki_free(&pki);
  return 0;
}
