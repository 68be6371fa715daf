#include "tests/bench/report.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace bench {

namespace {

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace

void JsonLine::key(const std::string& name) {
  if (!body_.empty()) body_ += ',';
  body_ += quoted(name);
  body_ += ':';
}

JsonLine& JsonLine::add(const std::string& name, const std::string& value) {
  key(name);
  body_ += quoted(value);
  return *this;
}

JsonLine& JsonLine::add(const std::string& name, std::int64_t value) {
  key(name);
  body_ += std::to_string(value);
  return *this;
}

JsonLine& JsonLine::add(const std::string& name, std::uint64_t value) {
  key(name);
  body_ += std::to_string(value);
  return *this;
}

JsonLine& JsonLine::add(const std::string& name, double value, int significant) {
  key(name);
  if (!std::isfinite(value)) {
    body_ += "null";
    return *this;
  }
  char text[64];
  std::snprintf(text, sizeof text, "%.*g", significant, value);
  body_ += text;
  return *this;
}

long proc_status_kb(const char* field) {
  std::FILE* file = std::fopen("/proc/self/status", "r");
  if (file == nullptr) return -1;
  const std::size_t field_len = std::strlen(field);
  char line[256];
  long kb = -1;
  while (std::fgets(line, sizeof line, file) != nullptr) {
    if (std::strncmp(line, field, field_len) == 0 && line[field_len] == ':') {
      std::sscanf(line + field_len + 1, "%ld", &kb);
      break;
    }
  }
  std::fclose(file);
  return kb;
}

bool reset_peak_rss() {
  std::FILE* file = std::fopen("/proc/self/clear_refs", "w");
  if (file == nullptr) return false;
  const bool written = std::fputs("5", file) >= 0;
  return std::fclose(file) == 0 && written;
}

}  // namespace bench
