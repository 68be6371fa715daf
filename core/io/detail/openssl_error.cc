#include "core/io/detail/openssl_error.h"

#include <openssl/err.h>

namespace weft::detail {

std::string take_openssl_errors(const char* fallback) {
  std::string text;
  char buffer[256];
  for (unsigned long code = ERR_get_error(); code != 0; code = ERR_get_error()) {
    ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!text.empty()) text += "; ";
    text += buffer;
  }
  return text.empty() ? std::string(fallback) : text;
}

void clear_openssl_errors() noexcept { ERR_clear_error(); }

}  // namespace weft::detail
