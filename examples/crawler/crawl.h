// crawler::crawl: fetches a list of URLs with one HttpClient, at most
// `max_in_flight` at a time (a weft::Semaphore), each under a time limit
// (weft::wait_for), and reports per URL when it started and finished, its
// size and checksum, or its error — the aiohttp crawler seed's shape.
//
//   crawler::CrawlReport report = co_await crawler::crawl(client, urls, {.max_in_flight = 10});
//
// - A failure is that URL's result (ok == false, error set): a status other
//   than 2xx ("404 Not Found"), a timeout ("timed out after 200 ms"), a
//   refused connection, a malformed response. The other URLs go on.
// - on_event, if set, is called on the loop thread as each URL starts and
//   finishes (the crawler program prints from it).
//
// Threads: the loop's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/weft.h"
#include "examples/crawler/http_client.h"

namespace crawler {

struct CrawlResult {
  std::string url;
  bool ok = false;
  int status = 0;              // 0 if no response came
  std::string error;           // empty if ok
  std::size_t bytes = 0;       // body size
  std::uint64_t checksum = 0;  // fnv1a64 of the body
  double started_ms = 0;       // since the crawl began (after waiting for a slot)
  double finished_ms = 0;
  std::string body;  // only with CrawlOptions::keep_bodies
};

struct CrawlReport {
  std::vector<CrawlResult> results;  // in the order of the URLs given
  double wall_ms = 0;                // the whole crawl
  double sum_ms = 0;                 // the fetches' durations added up
  std::size_t max_in_flight = 0;     // the most fetches that ran at once
  std::size_t connections_opened = 0;
  std::size_t requests_on_reused_connections = 0;
  std::size_t failures = 0;
};

struct CrawlOptions {
  std::size_t max_in_flight = 10;
  weft::Duration timeout = std::chrono::seconds(10);
  bool keep_bodies = false;
  std::function<void(const CrawlResult& result, bool finished)> on_event;
};

weft::Task<CrawlReport> crawl(HttpClient& client, std::vector<std::string> urls,
                              CrawlOptions options);

// 64-bit FNV-1a: the checksum reported per URL (cheap, and enough to tell a
// file's bytes from any other's in a test).
std::uint64_t fnv1a64(std::string_view data) noexcept;

}  // namespace crawler
