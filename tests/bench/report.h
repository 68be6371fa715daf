// The benchmark's output: one JSON object per line, and memory readings.
//
//   JsonLine line;
//   line.add("impl", "weft").add("n", 1000000).add("seconds", 0.0071);
//   std::puts(line.str().c_str());   // {"impl":"weft","n":1000000,"seconds":0.0071}
//
// Fields appear in the order added. Numbers that are not finite print as null,
// so every line stays valid JSON.
#pragma once

#include <cstdint>
#include <string>

namespace bench {

class JsonLine {
 public:
  JsonLine& add(const std::string& key, const std::string& value);
  JsonLine& add(const std::string& key, const char* value) { return add(key, std::string(value)); }
  JsonLine& add(const std::string& key, std::int64_t value);
  JsonLine& add(const std::string& key, std::uint64_t value);
  JsonLine& add(const std::string& key, int value) { return add(key, std::int64_t{value}); }
  // Printed with `significant` significant digits (%.*g).
  JsonLine& add(const std::string& key, double value, int significant = 6);

  // The object, without a trailing newline.
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void key(const std::string& name);
  std::string body_;
};

// A "Vm..." line of /proc/self/status in kB ("VmRSS", "VmHWM"); -1 if absent.
long proc_status_kb(const char* field);

// Resident set size now, and its peak so far, in kB.
inline long rss_kb() { return proc_status_kb("VmRSS"); }
inline long peak_rss_kb() { return proc_status_kb("VmHWM"); }

// Lowers the peak (VmHWM) to the resident set size now (Linux's
// /proc/self/clear_refs, "5"), so that peak_rss_kb() after a workload is its
// own peak, not that of an earlier workload or repeat in the same process.
// Returns false where the kernel does not allow it (the peak then stays the
// process's).
bool reset_peak_rss();

}  // namespace bench
