// weft::SpinPolicy: whether a thread that ran out of work (a loop waiting for
// posts from other threads or for its own I/O, an idle pool worker) may spin
// for a while before it sleeps in the kernel. Taken by LoopOptions and
// ThreadPoolOptions.
//
// The trade-off: a sleeping thread is woken by a system call and the
// scheduler, which costs the poster a few microseconds and the round trip
// tens of microseconds on a virtual machine (a wake-up of an idle vCPU); a
// spinning thread sees a post within a fraction of a microsecond, but burns
// its core while it spins. `adaptive` spins only while the recent waits show
// that work arrives within the spin window (see detail/spin_governor.h), so
// an idle loop or pool sleeps at once after a few empty spins and burns no
// CPU; `off` never spins: every wait sleeps, and every post to a sleeping
// thread pays for the wake-up.
#pragma once

namespace weft {

enum class SpinPolicy {
  adaptive,  // spin up to a ceiling while recent work arrived soon enough (the default)
  off,       // never spin: sleep as soon as there is no work
};

}  // namespace weft
