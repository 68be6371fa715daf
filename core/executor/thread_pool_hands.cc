// weft::ThreadPool's hands: how a worker's batch is claimed item by item by
// its owner and, from the back, by thieves (other workers), without a lock
// on the owner's path. Runs on the pool's workers; each hand belongs to one
// worker (its owner), thieves touch it under its spin lock. The rest of the
// pool (the queue, spinning, parking, the wake-up protocol, shutdown) is in
// thread_pool.cc, which also holds what the workers' loop runs for every item
// or batch, to be inlined there: the owner's fast claim (claim_own), the
// hand's lock and the look for unclaimed items.
#include <thread>

#include "core/executor/asymmetric_fence.h"
#include "core/executor/thread_pool.h"

// Hands. A hand holds one batch: items [0, size). The owner claims them from
// the front, in order, by advancing owner_next; thieves claim from the back,
// one at a time, by advancing `stolen`; items [owner_next, size - stolen) are
// unclaimed. Who touches what:
//   - owner_next: stored by the owner only (relaxed), at every claim; read by
//     thieves (under the hand's lock) and by anyone looking for work.
//   - stolen: stored by thieves only, under the hand's lock (a tentative
//     increment, then kept or taken back), and reset by the owner's refill
//     under the lock; read by the owner at every claim, without the lock.
//   - size and items: written by the owner's refill only, while no item of
//     the hand is unclaimed or unmoved, with the hand's lock held (items just
//     before), so a thief reads them after taking the lock and sees the
//     batch; stolen_moved: thieves add 1 (release) after moving their item
//     out, the owner waits (acquire) until it equals the thieves' claims
//     before the next refill, so it never overwrites an item being moved.
//   - batch_size, finished, stolen_final: the owner's private view.
// The hand's lock (`locked`, a spin lock) serialises the thieves of one hand
// with each other, with the refill and with the owner's slow path. The owner's
// fast path takes no lock and does no read-modify-write.
//
// A claim is a Dekker handshake (store my claim, then read the other side's):
//   owner, item o:   owner_next = o + 1;  light barrier;  t = stolen;
//                    o < size - t: the item is the owner's; else slow path.
//   thief, item c = size - 1 - t (lock held):
//                    stolen = t + 1;  heavy barrier;  n = owner_next;
//                    c >= n: the item is the thief's; else stolen = t again.
// The barriers guarantee that of two such sequences at least one read sees
// the other side's store (store buffering is forbidden). So for an item c
// that both want (o == c), either the thief sees n > c and gives it back, or
// the owner sees stolen = t + 1 and goes to its slow path, which takes the
// lock (so the thief has finished: kept or given back) and reads `stolen`
// again: o < size - stolen decides, the same rule the thief used on the same
// values. The owner never claims an item a thief kept: when the owner reaches
// c it stores owner_next = c + 1, and the thief that kept c read owner_next
// <= c after its barrier, i.e. it missed that store, so the owner's read
// sees the thief's stolen (or a later value) and the owner does not take c.
// A thief's increment that it takes back may send the owner to its slow
// path for nothing, never to a wrong answer; a thief reads size, stolen and
// owner_next under the lock, after any refill. Each item therefore goes to
// exactly one worker.
//
// The barriers: with Linux's membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)
// (registered once per process), the owner's light barrier is only a
// compiler barrier and the thief's heavy barrier is the system call, which
// makes every running thread of the process execute a full memory barrier
// before it returns (the documented use of membarrier(2): a cheap side that
// runs often, an expensive side that runs rarely). Either the owner's store
// has drained by the time the thief reads owner_next, or the owner's read of
// `stolen` comes after the barrier and sees the thief's store. Without
// membarrier (other systems, or a kernel or sandbox that refuses it) all four
// accesses are seq_cst, for which the C++ memory model itself forbids the
// outcome. Thieves are rare (W8, 1,000,000 tiny jobs: a few hundred steals),
// so the system call costs nothing measurable, while a locked instruction per
// job cost the owner a quarter of W8's throughput.
//
// End of a batch. The owner's claim fails in two ways. (a) owner_next
// reached size: the owner claimed the last item itself, whose claim read
// stolen == 0 after storing owner_next = size (slow path: under the lock),
// so no thief had kept an item, and none can now; stolen_final = 0 and the
// hand is refillable at once. (b) The slow path found o >= size - stolen
// under the lock: stolen is final (every thief's candidate is below
// owner_next = o + 1 from now on), stolen_final = stolen, and the owner waits
// for stolen_moved to reach it. Then it refills under lock_ and the hand's
// lock, and claims item 0 at once (owner_next = 1).
//
// Why hands can be stolen from: a worker whose hand holds callbacks it has
// not started may be blocked in a long callback. Without stealing, another
// worker would go idle while those callbacks wait (two 50 ms jobs queued at
// once on two workers took 100 ms when one worker took both).

namespace weft {

// A thief may be claiming item `next` too, or has claimed it: decide under
// the hand's lock, where `stolen` is exact. Owner only.
bool ThreadPool::claim_own_slow(Hand& hand, std::uint32_t next, std::uint32_t& index) noexcept {
  lock_hand(hand);
  const std::uint32_t stolen = hand.stolen.load(std::memory_order_relaxed);
  unlock_hand(hand);
  if (next + stolen < hand.batch_size) {
    index = next;
    return true;
  }
  // End (b): thieves hold items [next, size); owner_next = next + 1 keeps
  // every later thief out, so `stolen` is final.
  hand.finished = true;
  hand.stolen_final = stolen;
  return false;
}

// A thief's claim of the last unclaimed item of `hand` (see "Hands").
bool ThreadPool::claim_back(Hand& hand, std::uint32_t& index) noexcept {
  if (!has_unclaimed(hand)) return false;
  lock_hand(hand);
  const std::uint32_t size = hand.size.load(std::memory_order_relaxed);
  const std::uint32_t stolen = hand.stolen.load(std::memory_order_relaxed);
  bool claimed = false;
  if (stolen < size) {
    const std::uint32_t candidate = size - 1 - stolen;
    if (candidate >= hand.owner_next.load(std::memory_order_relaxed)) {
      hand.stolen.store(stolen + 1, std::memory_order_seq_cst);
      if (asymmetric_fences_) detail::heavy_barrier();
      if (candidate >= hand.owner_next.load(std::memory_order_seq_cst)) {
        index = candidate;
        claimed = true;
      } else {
        hand.stolen.store(stolen, std::memory_order_relaxed);  // the owner has it
      }
    }
  }
  unlock_hand(hand);
  return claimed;
}

// Waits (briefly: a thief between its claim and its move) until every item a
// thief claimed from `hand` has been moved out. Owner only, once `finished`.
void ThreadPool::wait_until_refillable(const Hand& hand) noexcept {
  while (hand.stolen_moved.load(std::memory_order_acquire) != hand.stolen_final) {
    std::this_thread::yield();
  }
}

}  // namespace weft
