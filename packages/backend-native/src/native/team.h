// Helper threads that share short, latency-bound loops with the calling thread: the per-step
// matrix-vector products of single-sequence inference (tens of µs each), which would run on
// one core otherwise because the JS thread runs such small calls itself (see Enqueue).
//
// OpenMP does not fit here: the JS loader makes its idle threads sleep (OMP_WAIT_POLICY=
// passive, which training needs), and waking a sleeping thread costs about as much as the
// loop. A helper spins for a short while after each loop instead, so the next loop of the
// same token usually finds it awake, then sleeps. Chunks of the loop are claimed one at a
// time, so a helper that wakes late only takes less of the work: a loop never waits for a
// helper to start, only for the chunks a helper has already claimed.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace recur {

class Team {
 public:
  // `helpers` threads besides the caller; they sleep until the first loop. Throws
  // std::system_error when one cannot be started (after stopping those that did).
  explicit Team(int helpers);
  ~Team();
  Team(const Team&) = delete;
  // Threads that run a loop: the helpers and the caller.
  size_t size() const { return static_cast<size_t>(helpers_) + 1; }
  Team& operator=(const Team&) = delete;

  // Runs body(i) for every i in [0, count) on the caller and the helpers, and returns when all
  // have run. One loop at a time: a call made while another runs (or from inside a body) runs
  // serially on its own thread. If a body throws, the other chunks still run, and once every
  // claimed chunk is done the first exception is rethrown here, on the calling thread: it must
  // not escape a helper (std::terminate) nor unwind the caller while helpers still use `body`.
  template <typename F>
  void run(size_t count, F&& body) {
    using Body = std::remove_reference_t<F>;
    run(count, [](void* f, size_t i) { (*static_cast<Body*>(f))(i); }, const_cast<void*>(static_cast<const void*>(&body)));
  }

 private:
  void run(size_t count, void (*fn)(void*, size_t), void* context);
  void helperLoop();
  void stopHelpers();
  // The next chunk of generation `gen`, or kNone when that loop has no chunk left.
  size_t claim(uint64_t gen);

  static constexpr size_t kNone = SIZE_MAX;
  const int helpers_;
  // gen (24 bits) | count (20 bits) | next chunk (20 bits), updated atomically so that a chunk is
  // only ever claimed for the loop it belongs to.
  std::atomic<uint64_t> job_{0};
  std::atomic<size_t> done_{0};
  void (*fn_)(void*, size_t) = nullptr;  // written before a loop is published
  void* context_ = nullptr;
  uint64_t gen_ = 0;
  std::atomic<bool> busy_{false};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> quit_{false};
  // A helper's exception in the current loop: written by the helper that sets helperFailed_,
  // before its done_ increment, so the caller reads it after waiting for done_.
  std::atomic<bool> helperFailed_{false};
  std::exception_ptr helperFailure_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::thread> threads_;
};

}  // namespace recur
