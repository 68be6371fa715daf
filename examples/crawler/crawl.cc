// crawler::crawl: one task per URL, a Semaphore for the bound, wait_for for
// the time limit, steady_clock for the timings.
#include "examples/crawler/crawl.h"

#include <algorithm>
#include <utility>

namespace crawler {

std::uint64_t fnv1a64(std::string_view data) noexcept {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char byte : data) {
    hash ^= byte;
    hash *= 1099511628211ull;
  }
  return hash;
}

namespace {

struct CrawlState {
  HttpClient& client;
  CrawlOptions& options;
  weft::Semaphore slots;
  std::chrono::steady_clock::time_point began;
  std::size_t in_flight = 0;
  std::size_t max_in_flight = 0;

  double ms_since_start() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began)
        .count();
  }
};

weft::Task<void> fetch_one(CrawlState& state, CrawlResult& result) {
  weft::SemaphoreGuard slot = co_await state.slots.acquire_guard();
  state.max_in_flight = std::max(state.max_in_flight, ++state.in_flight);
  result.started_ms = state.ms_since_start();
  if (state.options.on_event) state.options.on_event(result, false);
  try {
    HttpResponse response =
        co_await weft::wait_for(state.client.get(result.url), state.options.timeout);
    result.status = response.status;
    result.bytes = response.body.size();
    result.checksum = fnv1a64(response.body);
    result.ok = response.status >= 200 && response.status < 300;
    if (!result.ok) result.error = std::to_string(response.status) + " " + response.reason;
    if (state.options.keep_bodies) result.body = std::move(response.body);
  } catch (const weft::TimedOut&) {
    const auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(state.options.timeout);
    result.error = "timed out after " + std::to_string(limit.count()) + " ms";
  } catch (const weft::Cancelled&) {
    --state.in_flight;
    throw;
  } catch (const weft::Exception& e) {
    result.error = e.what();
  }
  --state.in_flight;
  result.finished_ms = state.ms_since_start();
  if (state.options.on_event) state.options.on_event(result, true);
}

}  // namespace

weft::Task<CrawlReport> crawl(HttpClient& client, std::vector<std::string> urls,
                              CrawlOptions options) {
  if (options.max_in_flight == 0)
    throw weft::Exception(weft::Errc::invalid_argument, "crawl: max_in_flight is 0");
  const std::size_t opened_before = client.connections_opened();
  const std::size_t reused_before = client.requests_on_reused_connections();
  CrawlState state{client, options, weft::Semaphore(options.max_in_flight),
                   std::chrono::steady_clock::now()};
  CrawlReport report;
  report.results.resize(urls.size());
  std::vector<weft::TaskHandle<void>> fetches;
  fetches.reserve(urls.size());
  for (std::size_t i = 0; i < urls.size(); ++i) {
    report.results[i].url = std::move(urls[i]);
    fetches.push_back(weft::spawn(fetch_one(state, report.results[i]), "fetch"));
  }
  co_await weft::gather(std::move(fetches));
  report.wall_ms = state.ms_since_start();
  for (const CrawlResult& result : report.results) {
    report.sum_ms += result.finished_ms - result.started_ms;
    if (!result.ok) ++report.failures;
  }
  report.max_in_flight = state.max_in_flight;
  report.connections_opened = client.connections_opened() - opened_before;
  report.requests_on_reused_connections = client.requests_on_reused_connections() - reused_before;
  co_return report;
}

}  // namespace crawler
