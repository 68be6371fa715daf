// The C API fuzz target's signal steps (opcodes 248..251, io_step's 24..27):
// weft_signal_watch of SIGUSR1, SIGUSR2 or a signal one may not watch,
// weft_signal_wait, raising SIGUSR1/SIGUSR2 while weft's handler is in place
// (never otherwise: the default action would end the process), and
// weft_signal_close, with weft_signal_shutdown refused for a NULL out.
#include <signal.h>

#include <cstdint>

#include "tests/fuzz/capi_fuzz.h"
#include "tests/fuzz/capi_fuzz_io.h"
#include "weft/weft.h"

namespace capi_fuzz {
namespace {

// The handler weft installed when it last watched SIGUSR1 / SIGUSR2: a
// signal is raised only while that handler is in place (otherwise its
// default action would end the process).
void* g_weft_handler[2] = {nullptr, nullptr};

void* handler_of(int signum) {
  struct sigaction sa;
  if (sigaction(signum, nullptr, &sa) != 0) return nullptr;
  return reinterpret_cast<void*>(sa.sa_handler);
}

void*& recorded_handler(int signum) { return g_weft_handler[signum == SIGUSR1 ? 0 : 1]; }

bool weft_handles(int signum) {
  void* now = handler_of(signum);
  return now != nullptr && now != reinterpret_cast<void*>(SIG_DFL) && now != reinterpret_cast<void*>(SIG_IGN) &&
         now == recorded_handler(signum);
}

}  // namespace

void remember_weft_handler(int signum) { recorded_handler(signum) = handler_of(signum); }

void signal_step(World& w, Input& in, uint8_t op, uint8_t a) {
  switch (op) {
    case 24: {  // weft_signal_watch: SIGUSR1, SIGUSR2, or no signal one may watch
      int signum;
      const uint8_t b = in.byte();
      switch (b % 8) {
        case 0: case 1: case 2: signum = SIGUSR1; break;
        case 3: case 4: signum = SIGUSR2; break;
        case 5: signum = 0; break;
        case 6: signum = (b & 8) ? SIGKILL : SIGSTOP; break;
        default: signum = (b & 8) ? NSIG : -static_cast<int>(in.byte()) - 1;
      }
      weft_signal_t* handle = nullptr;
      const weft_status s = weft_signal_watch((a & 0xF0) == 0xF0 ? nullptr : &handle, w.pick(w.loops, a), signum);
      if (s == WEFT_OK) {
        if (signum != SIGUSR1 && signum != SIGUSR2) violated("weft_signal_watch took a bad signal number");
        remember_weft_handler(signum);
        w.signals.push_back(handle);
        w.signal_numbers.push_back(signum);
      }
      break;
    }
    case 25: {  // weft_signal_wait
      Call* call = new_call(w, in.byte());
      weft_signal_t* handle = nullptr;
      if (!w.signals.empty()) {
        const size_t i = a % w.signals.size();
        handle = w.signals[i];
        call->signum = w.signal_numbers[i];
      }
      made(call, weft_signal_wait(out_for(call), handle, (a & 0xE0) == 0xE0 ? nullptr : on_signal, call),
           (a & 0xE0) != 0xE0);
      break;
    }
    case 26: {  // raise SIGUSR1 or SIGUSR2 while weft's handler is in place
      const int signum = (a & 1) ? SIGUSR2 : SIGUSR1;
      if (weft_handles(signum)) ::raise(signum);
      break;
    }
    case 27: {  // weft_signal_close; weft_signal_shutdown refused (never a SIGINT/SIGTERM watch)
      if (a & 1) {
        weft_signal_close(w.pick(w.signals, a >> 1));
      } else {
        Call* call = new_call(w, in.byte());
        if (weft_signal_shutdown(nullptr, w.pick(w.loops, a >> 1), on_signal, call) == WEFT_OK) {
          violated("weft_signal_shutdown took a NULL out");
        }
        call->called = true;
      }
      break;
    }
    default:
      break;
  }
}

}  // namespace capi_fuzz
