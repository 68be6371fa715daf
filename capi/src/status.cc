// weft_status_str / weft_status_name, generated from WEFT_ERRC_MAP (the C
// enum in weft/status.h is generated from the same table), and the version.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstring>

#include "capi/src/guard.h"
#include "core/errc.h"
#include "weft/status.h"
#include "weft/version.h"

namespace {

// The C enumerators must be the table's numbers, negated.
#define WEFT_CHECK_COUNT(name, number, message) +1
constexpr int kCodes = 0 WEFT_ERRC_MAP(WEFT_CHECK_COUNT);
#undef WEFT_CHECK_COUNT
static_assert(WEFT_ERR_TLS_PROTOCOL_ERROR == -(kCodes - 1),  // the table's last row
              "weft/status.h is out of date: run capi/gen_status_h.py");

bool in_table(weft_status status) noexcept { return status <= 0 && -status < kCodes; }

// The longest name weft_status_name returns, with its NUL.
#define WEFT_NAME_SIZE(name, number, message) , sizeof("WEFT_ERR_" #name)
constexpr std::size_t kNameSize = std::max({sizeof("WEFT_OK") WEFT_ERRC_MAP(WEFT_NAME_SIZE)});
#undef WEFT_NAME_SIZE

// "WEFT_OK" and "WEFT_ERR_" + each table name in capitals, built once in
// fixed buffers: the first weft_status_name allocates nothing, so no
// std::bad_alloc can cross the C boundary.
struct StatusNames {
  char text[kCodes][kNameSize];
  StatusNames() noexcept {
    std::memcpy(text[0], "WEFT_OK", sizeof("WEFT_OK"));
    for (int i = 1; i < kCodes; ++i) {
      static constexpr char kPrefix[] = "WEFT_ERR_";
      std::size_t n = sizeof(kPrefix) - 1;
      std::memcpy(text[i], kPrefix, n);
      for (char c : weft::errc_name(static_cast<weft::Errc>(i))) {
        if (n + 1 == kNameSize) break;
        text[i][n++] = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      text[i][n] = '\0';
    }
  }
};

}  // namespace

bool weft::capi::is_table_status(weft_status status) noexcept { return in_table(status); }

extern "C" {

WEFT_API const char* weft_status_str(weft_status status) {
  if (in_table(status)) {
    // errc_message returns views of the table's string literals.
    return weft::errc_message(static_cast<weft::Errc>(-status)).data();
  }
  if (status <= WEFT_STATUS_USER) return "application-defined error";
  return "unknown status";
}

WEFT_API const char* weft_status_name(weft_status status) {
  static const StatusNames names;
  if (in_table(status)) return names.text[-status];
  if (status <= WEFT_STATUS_USER) return "WEFT_STATUS_USER";
  return "unknown";
}

WEFT_API uint32_t weft_version(void) { return WEFT_VERSION_HEX; }

WEFT_API const char* weft_version_string(void) { return WEFT_VERSION_STRING; }

WEFT_API uint32_t weft_abi_version(void) { return WEFT_ABI_VERSION; }

WEFT_API weft_status weft_version_check(uint32_t abi_version, uint32_t version_hex) {
  if (abi_version != WEFT_ABI_VERSION || version_hex > WEFT_VERSION_HEX) {
    return WEFT_ERR_VERSION_MISMATCH;
  }
  return WEFT_OK;
}

}  // extern "C"
