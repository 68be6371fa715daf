// Asymmetric memory barriers for the thread pool's claim handshake
// (thread_pool_hands.cc): a cheap side that runs often (a compiler barrier)
// and an expensive side that runs rarely (heavy_barrier), on Linux's
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED). Any thread; the process's
// registration is made once, by the first call of
// asymmetric_fences_available().
#pragma once

namespace weft::detail {

// Whether membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) is available and this
// process is registered for it. Computed once per process.
bool asymmetric_fences_available() noexcept;

// Every running thread of this process executes a full memory barrier before
// this returns. Only called when asymmetric_fences_available(); should the
// system call fail after it worked, the process is terminated (the handshake
// it guards would no longer hold).
void heavy_barrier() noexcept;

}  // namespace weft::detail
