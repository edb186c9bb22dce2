#include "team.h"

#include <chrono>
#include <string>
#include <system_error>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RECUR_TEAM_PAUSE() _mm_pause()
#else
#define RECUR_TEAM_PAUSE() std::this_thread::yield()
#endif

namespace recur {

namespace {
constexpr int kGenShift = 40, kCountShift = 20;
constexpr uint64_t kField = (uint64_t{1} << 20) - 1, kGenMask = (uint64_t{1} << 24) - 1;
// How long a helper spins after a loop before it sleeps. Generating a token runs one loop per
// layer, tens of µs apart, and the next token's first loop follows after the logits' round
// trip through JS (0.05–0.3 ms, more while V8 is still compiling). Waking a sleeping helper
// costs a cross-core wake-up (an IPI, slow in a VM) on every loop: measured on 2 vCPUs,
// sleeping at once was slower than no helper at all, 0.3 ms of spinning gained about 10%,
// 2 ms about 15% on the first 200 tokens of a process.
constexpr auto kSpin = std::chrono::milliseconds(2);
}  // namespace

Team::Team(int helpers) : helpers_(helpers > 0 ? helpers : 0) {
  threads_.reserve(static_cast<size_t>(helpers_));
  try {
    for (int i = 0; i < helpers_; i++) threads_.emplace_back([this] { helperLoop(); });
  } catch (const std::system_error& e) {
    // The destructor will not run: join the started helpers here, or their std::thread
    // destructors would std::terminate.
    stopHelpers();
    throw std::system_error(e.code(), "could not start the native backend's helper threads (" + std::to_string(threads_.size()) + " of " +
                                          std::to_string(helpers_) + " started)");
  } catch (...) {
    stopHelpers();  // std::thread's own bookkeeping can throw std::bad_alloc too
    throw;
  }
}

Team::~Team() { stopHelpers(); }

void Team::stopHelpers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    quit_.store(true);
  }
  wake_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

size_t Team::claim(uint64_t gen) {
  uint64_t v = job_.load(std::memory_order_acquire);
  for (;;) {
    if ((v >> kGenShift) != gen) return kNone;
    const uint64_t count = (v >> kCountShift) & kField, next = v & kField;
    if (next >= count) return kNone;
    if (job_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel, std::memory_order_acquire)) return static_cast<size_t>(next);
  }
}

void Team::run(size_t count, void (*fn)(void*, size_t), void* context) {
  const bool parallel = helpers_ > 0 && count > 1 && count <= kField && !busy_.exchange(true, std::memory_order_acquire);
  if (!parallel) {
    for (size_t i = 0; i < count; i++) fn(context, i);
    return;
  }
  fn_ = fn;
  context_ = context;
  done_.store(0, std::memory_order_relaxed);
  gen_ = (gen_ + 1) & kGenMask;
  if (gen_ == 0) gen_ = 1;  // helpers start out having seen generation 0
  // seq_cst store, then load: a helper about to sleep either sees this loop or is counted.
  job_.store((gen_ << kGenShift) | (static_cast<uint64_t>(count) << kCountShift));
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }
  size_t mine = 0;
  std::exception_ptr failure;
  for (size_t i; (i = claim(gen_)) != kNone; mine++) {
    try {
      fn(context, i);
    } catch (...) {
      if (!failure) failure = std::current_exception();
    }
  }
  // Only chunks a helper has claimed are waited for, and each is short.
  while (done_.load(std::memory_order_acquire) + mine < count) RECUR_TEAM_PAUSE();
  if (helperFailed_.load(std::memory_order_relaxed)) {
    if (!failure) failure = helperFailure_;
    helperFailure_ = nullptr;
    helperFailed_.store(false, std::memory_order_relaxed);
  }
  busy_.store(false, std::memory_order_release);
  if (failure) std::rethrow_exception(failure);
}

void Team::helperLoop() {
  uint64_t seen = 0;
  // Until its first loop a helper sleeps rather than spins: the scheduler puts a thread it
  // wakes on an idle core at once, while a new thread that spins from the start can share its
  // creator's core for milliseconds (measured: the first ~100 loops ran at one core's speed).
  bool spin = false;
  for (;;) {
    const auto until = std::chrono::steady_clock::now() + (spin ? kSpin : std::chrono::milliseconds(0));
    spin = true;
    uint64_t gen = seen;
    while ((gen = job_.load(std::memory_order_acquire) >> kGenShift) == seen && !quit_.load(std::memory_order_relaxed)) {
      if (std::chrono::steady_clock::now() >= until) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleepers_.fetch_add(1);
        wake_.wait(lock, [&] { return quit_.load() || (job_.load() >> kGenShift) != seen; });
        sleepers_.fetch_sub(1);
      }
      for (int i = 0; i < 16; i++) RECUR_TEAM_PAUSE();
    }
    if (quit_.load()) return;
    seen = gen;
    for (size_t i; (i = claim(gen)) != kNone;) {
      try {
        fn_(context_, i);
      } catch (...) {
        if (!helperFailed_.exchange(true, std::memory_order_relaxed)) helperFailure_ = std::current_exception();
      }
      done_.fetch_add(1, std::memory_order_release);
    }
  }
}

}  // namespace recur
