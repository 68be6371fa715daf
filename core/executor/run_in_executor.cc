// The per-thread record run_in_executor uses to tell a refused job from a
// dropped one (see OffloadSubmission in run_in_executor.h).
#include "core/executor/run_in_executor.h"

namespace weft::detail {
namespace {

thread_local OffloadThreadState tls_offload;

}  // namespace

OffloadThreadState& offload_thread_state() noexcept { return tls_offload; }

}  // namespace weft::detail
