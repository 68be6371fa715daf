// crawler::Url::parse on http_parser_parse_url.
#include "examples/crawler/url.h"

#include <http_parser.h>

#include <algorithm>
#include <cctype>

#include "core/error.h"

namespace crawler {

namespace {

[[noreturn]] void bad_url(std::string_view text, std::string_view why) {
  throw weft::Exception(weft::Errc::invalid_argument,
                        "http: bad URL '" + std::string(text) + "': " + std::string(why));
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool is_default_port(const Url& url) {
  return (url.scheme == "http" && url.port == 80) || (url.scheme == "https" && url.port == 443);
}

}  // namespace

Url Url::parse(std::string_view text) {
  if (text.size() > 65535) bad_url(text.substr(0, 64), "longer than 64 KiB");
  http_parser_url parts;
  http_parser_url_init(&parts);
  if (http_parser_parse_url(text.data(), text.size(), 0, &parts) != 0) bad_url(text, "not a URL");
  auto field = [&](int which) -> std::string_view {
    if ((parts.field_set & (1 << which)) == 0) return {};
    return text.substr(parts.field_data[which].off, parts.field_data[which].len);
  };
  Url url;
  url.scheme = lower(std::string(field(UF_SCHEMA)));
  if (url.scheme != "http" && url.scheme != "https")
    bad_url(text, "only http:// and https:// URLs are fetched");
  url.host = std::string(field(UF_HOST));
  if (url.host.empty()) bad_url(text, "no host");
  if (!field(UF_USERINFO).empty()) bad_url(text, "user information in URLs is not supported");
  if ((parts.field_set & (1 << UF_PORT)) != 0) {
    if (parts.port == 0) bad_url(text, "port 0");
    url.port = parts.port;
  } else {
    url.port = url.scheme == "https" ? 443 : 80;
  }
  url.target = std::string(field(UF_PATH));
  if (url.target.empty()) url.target = "/";
  if (std::string_view query = field(UF_QUERY); !query.empty())
    url.target += "?" + std::string(query);
  return url;
}

std::string Url::origin() const {
  const bool v6 = host.find(':') != std::string::npos;
  return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Url::host_header() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string name = v6 ? "[" + host + "]" : host;
  return is_default_port(*this) ? name : name + ":" + std::to_string(port);
}

}  // namespace crawler
