// weft's crawler: fetches URLs over HTTP/1.1 with keep-alive connections, at
// most K at a time, each under a time limit, and prints when each one starts
// and finishes, so the overlap shows (the aiohttp crawler seed's program).
//
//   examples/crawler/run_demo.sh        # builds it, serves files with nginx, crawls them
//   bazel run //examples/crawler:crawler -- --max-in-flight 10 --timeout-ms 5000 URL...
//   bazel run //examples/crawler:crawler -- --list urls.txt     # one URL a line
//   bazel run //examples/crawler:crawler -- --ca-file ca.pem https://...  # else the system's CAs
//
// Exit status: 0 when every URL was fetched with a 2xx status, 1 when any
// failed (each failure is printed with its URL), 2 for bad usage.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/weft.h"
#include "examples/crawler/crawl.h"
#include "examples/crawler/http_client.h"

using namespace std::chrono_literals;

namespace {

[[noreturn]] void usage(const char* program) {
  std::fprintf(stderr, "usage: %s [--max-in-flight K] [--timeout-ms T] [--ca-file PEM] [--list FILE] [URL...]\n",
               program);
  std::exit(2);
}

long number(const char* text, const char* program) {
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value <= 0) usage(program);
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  crawler::CrawlOptions options;
  std::vector<std::string> urls;
  std::string ca_file;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--max-in-flight") == 0 && i + 1 < argc) {
      options.max_in_flight = static_cast<std::size_t>(number(argv[++i], argv[0]));
    } else if (std::strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc) {
      options.timeout = std::chrono::milliseconds(number(argv[++i], argv[0]));
    } else if (std::strcmp(argv[i], "--ca-file") == 0 && i + 1 < argc) {
      ca_file = argv[++i];
    } else if (std::strcmp(argv[i], "--list") == 0 && i + 1 < argc) {
      std::ifstream list(argv[++i]);
      if (!list) {
        std::fprintf(stderr, "crawler: cannot read %s\n", argv[i]);
        return 2;
      }
      for (std::string line; std::getline(list, line);) {
        if (!line.empty()) urls.push_back(line);
      }
    } else if (argv[i][0] == '-') {
      usage(argv[0]);
    } else {
      urls.emplace_back(argv[i]);
    }
  }
  if (urls.empty()) usage(argv[0]);

  options.on_event = [](const crawler::CrawlResult& r, bool finished) {
    if (!finished) {
      std::printf("[%8.1f ms] start  %s\n", r.started_ms, r.url.c_str());
    } else if (r.ok) {
      std::printf("[%8.1f ms] done   %s: %d, %zu bytes, fnv1a64 %016llx, took %.1f ms\n",
                  r.finished_ms, r.url.c_str(), r.status, r.bytes,
                  static_cast<unsigned long long>(r.checksum), r.finished_ms - r.started_ms);
    } else {
      std::printf("[%8.1f ms] FAILED %s: %s, after %.1f ms\n", r.finished_ms, r.url.c_str(),
                  r.error.c_str(), r.finished_ms - r.started_ms);
    }
    std::fflush(stdout);
  };

  crawler::HttpClientOptions client_options;
  if (!ca_file.empty()) {
    try {
      weft::TlsContextOptions tls;
      tls.ca_file = ca_file;
      client_options.tls = weft::TlsContext::client(tls);
    } catch (const weft::Exception& e) {
      std::fprintf(stderr, "crawler: --ca-file %s: %s\n", ca_file.c_str(), e.what());
      return 2;
    }
  }

  weft::Loop loop;
  weft::ThreadPool resolver(1);
  crawler::CrawlReport report;
  weft::Result<void> outcome = [&] {
    crawler::HttpClient client(loop, resolver, client_options);
    auto run = [&]() -> weft::Task<void> {
      report = co_await crawler::crawl(client, urls, options);
    };
    return weft::run_until_complete(loop, run());
  }();
  loop.shutdown(2s);
  loop.close();
  if (!outcome.ok()) {
    std::fprintf(stderr, "crawler: %s\n", outcome.error().message().c_str());
    return 1;
  }
  std::size_t bytes = 0;
  for (const auto& r : report.results) bytes += r.bytes;
  std::printf(
      "%zu URLs in %.1f ms (the fetches took %.1f ms added up: %.1fx overlap), at most %zu in "
      "flight, "
      "%zu bytes, %zu connections opened, %zu requests on reused connections, %zu failed\n",
      report.results.size(), report.wall_ms, report.sum_ms,
      report.wall_ms > 0 ? report.sum_ms / report.wall_ms : 0.0, report.max_in_flight, bytes,
      report.connections_opened, report.requests_on_reused_connections, report.failures);
  return report.failures == 0 ? 0 : 1;
}
