// weft_status_str / weft_status_name, generated from WEFT_ERRC_MAP (the C
// enum in weft/status.h is generated from the same table), and the version.
#include <array>
#include <cctype>
#include <string>

#include "capi/src/guard.h"
#include "core/errc.h"
#include "weft/status.h"
#include "weft/version.h"

namespace {

// The C enumerators must be the table's numbers, negated.
#define WEFT_CHECK_COUNT(name, number, message) +1
constexpr int kCodes = 0 WEFT_ERRC_MAP(WEFT_CHECK_COUNT);
#undef WEFT_CHECK_COUNT
static_assert(WEFT_ERR_IO_ERROR == -(kCodes - 1),  // the table's last row
              "weft/status.h is out of date: run capi/gen_status_h.py");

bool in_table(weft_status status) noexcept { return status <= 0 && -status < kCodes; }

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
  // "WEFT_ERR_" + the table's name in capitals, built once.
  static const std::array<std::string, kCodes> names = [] {
    std::array<std::string, kCodes> out;
    for (int i = 0; i < kCodes; ++i) {
      std::string name(weft::errc_name(static_cast<weft::Errc>(i)));
      for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out[i] = i == 0 ? "WEFT_OK" : "WEFT_ERR_" + name;
    }
    return out;
  }();
  if (in_table(status)) return names[-status].c_str();
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
