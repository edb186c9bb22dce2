#include "task_queue.h"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <system_error>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RECUR_PAUSE() _mm_pause()
#else
#define RECUR_PAUSE() std::this_thread::yield()
#endif

namespace recur {

TaskQueue::TaskQueue() {
  try {
    worker_ = std::thread([this] { loop(); });
  } catch (const std::system_error& e) {
    // Say which thread: the bare message ("Resource temporarily unavailable") does not.
    throw std::system_error(e.code(), "could not start the native backend's worker thread");
  }
}

TaskQueue::~TaskQueue() { stop(); }

void TaskQueue::push(Task task, const char* label) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (quit_) throw std::runtime_error("the native backend was destroyed");
    tasks_.push_back(Entry{std::move(task), label});  // may throw bad_alloc: nothing changed then
    pending_.fetch_add(1, std::memory_order_release);
    wake = sleeping_;
  }
  if (wake) wake_.notify_one();
}

void TaskQueue::pushAndWait(Task task, const char* label) {
  // Shared with the task: the worker may still hold its copy for a moment after waking us.
  struct Rendezvous {
    std::mutex mutex;
    std::condition_variable done;
    bool finished = false;
  };
  auto rendezvous = std::make_shared<Rendezvous>();
  push(
      [task = std::move(task), rendezvous] {
        // Wakes the waiter however the task ends (run() records what it throws).
        struct Finish {
          Rendezvous& r;
          ~Finish() {
            {
              std::lock_guard<std::mutex> lock(r.mutex);
              r.finished = true;
            }
            r.done.notify_one();
          }
        } finish{*rendezvous};
        task();
      },
      label);
  // Sleeps at once, unlike the worker's spin: measured on 2 cores, a queued 128³ gemm read
  // back 2,000 times took 148–181 µs per gemm + blocking read against 155–213 µs with an awaited
  // read and 148–198 µs for the gemm alone: the wake-up is lost in the noise of the work.
  std::unique_lock<std::mutex> lock(rendezvous->mutex);
  rendezvous->done.wait(lock, [&] { return rendezvous->finished; });
}

void TaskQueue::run(const Task& task, const char* label) noexcept {
  try {
    task();
  } catch (...) {
    // current_exception() does not allocate for an exception in flight (it shares it), so
    // recording works even when the failure was the heap running out.
    if (!failure_) failure_ = Failure{std::current_exception(), label};
  }
}

bool TaskQueue::tryRunInline(const Task& task, const char* label) {
  // pending_ is only raised by this (the JS) thread, so once it reads 0 the worker stays idle
  // until the next push; the acquire load makes the worker's writes visible here.
  if (quit_ || pending_.load(std::memory_order_acquire) != 0) return false;
  run(task, label);
  return true;
}

void TaskQueue::stop() {
  if (stopped_) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    quit_ = true;
  }
  wake_.notify_one();
  if (worker_.joinable()) worker_.join();
  stopped_ = true;
}

TaskQueue::Failure TaskQueue::takeFailure() {
  Failure f = failure_;
  failure_ = Failure{};
  return f;
}

void TaskQueue::loop() {
  for (;;) {
    // Spin for up to ~50 µs before sleeping: the next task of a step usually arrives sooner.
    auto spinUntil = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
    while (pending_.load(std::memory_order_acquire) == 0 && std::chrono::steady_clock::now() < spinUntil) {
      for (int i = 0; i < 32; i++) RECUR_PAUSE();
    }
    Entry entry;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      sleeping_ = true;
      wake_.wait(lock, [this] { return !tasks_.empty() || quit_; });
      sleeping_ = false;
      if (tasks_.empty()) return;  // quit_ and drained
      entry = std::move(tasks_.front());
      tasks_.pop_front();
    }
    run(entry.task, entry.label);
    entry.task = nullptr;  // release captured storages on the worker, now
    pending_.fetch_sub(1, std::memory_order_release);
  }
}

}  // namespace recur
