#include "core/errc.h"

#include <string>

namespace weft {

std::string_view errc_message(Errc code) noexcept {
  switch (code) {
#define WEFT_ERRC_MESSAGE(name, number, message) \
  case Errc::name:                               \
    return message;
    WEFT_ERRC_MAP(WEFT_ERRC_MESSAGE)
#undef WEFT_ERRC_MESSAGE
  }
  return "unknown error";
}

std::string_view errc_name(Errc code) noexcept {
  switch (code) {
#define WEFT_ERRC_NAME(name, number, message) \
  case Errc::name:                            \
    return #name;
    WEFT_ERRC_MAP(WEFT_ERRC_NAME)
#undef WEFT_ERRC_NAME
  }
  return "unknown";
}

namespace {

class WeftCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "weft"; }
  std::string message(int value) const override {
    return std::string(errc_message(static_cast<Errc>(value)));
  }
};

}  // namespace

const std::error_category& weft_category() noexcept {
  static const WeftCategory category;
  return category;
}

}  // namespace weft
