#include "task_queue.h"

#include <chrono>
#include <exception>
#include <stdexcept>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RECUR_PAUSE() _mm_pause()
#else
#define RECUR_PAUSE() std::this_thread::yield()
#endif

namespace recur {

TaskQueue::TaskQueue() { worker_ = std::thread([this] { loop(); }); }

TaskQueue::~TaskQueue() { stop(); }

void TaskQueue::push(Task task) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (quit_) throw std::runtime_error("the native backend was destroyed");
    tasks_.push_back(std::move(task));
    pending_.fetch_add(1, std::memory_order_release);
    wake = sleeping_;
  }
  if (wake) wake_.notify_one();
}

bool TaskQueue::tryRunInline(const Task& task) {
  // pending_ is only raised by this (the JS) thread, so once it reads 0 the worker stays idle
  // until the next push; the acquire load makes the worker's writes visible here.
  if (quit_ || pending_.load(std::memory_order_acquire) != 0) return false;
  try {
    task();
  } catch (const std::exception& e) {
    if (error_.empty()) error_ = e.what();
  } catch (...) {
    if (error_.empty()) error_ = "unknown native error";
  }
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

std::string TaskQueue::takeError() {
  std::string e;
  e.swap(error_);
  return e;
}

void TaskQueue::loop() {
  for (;;) {
    // Spin for up to ~50 µs before sleeping: the next task of a step usually arrives sooner.
    auto spinUntil = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
    while (pending_.load(std::memory_order_acquire) == 0 && std::chrono::steady_clock::now() < spinUntil) {
      for (int i = 0; i < 32; i++) RECUR_PAUSE();
    }
    Task task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      sleeping_ = true;
      wake_.wait(lock, [this] { return !tasks_.empty() || quit_; });
      sleeping_ = false;
      if (tasks_.empty()) return;  // quit_ and drained
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    try {
      task();
    } catch (const std::exception& e) {
      if (error_.empty()) error_ = e.what();
    } catch (...) {
      if (error_.empty()) error_ = "unknown native error";
    }
    task = nullptr;  // release captured storages on the worker, now
    pending_.fetch_sub(1, std::memory_order_release);
  }
}

}  // namespace recur
