#include "core/error.h"

#include <exception>
#include <new>

namespace weft {

void throw_error(const Error& error) {
  if (error.is_cancelled()) throw Cancelled(error.message());
  throw Exception(error);
}

Error error_from_current_exception() {
  try {
    throw;
  } catch (const Exception& e) {
    return e.error();
  } catch (const std::bad_alloc&) {
    return Error(Errc::no_memory);
  } catch (const std::exception& e) {
    return Error(Errc::exception, e.what());
  } catch (...) {
    return Error(Errc::unknown, "a non-standard exception was thrown");
  }
}

}  // namespace weft
