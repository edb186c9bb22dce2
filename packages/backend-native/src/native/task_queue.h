// An ordered queue of tasks run by one worker thread.
//
// The JS thread pushes closures; the worker runs them strictly in push order. A task that
// throws records its message; the next signal task (read/sync) reports it. After the queue
// runs dry the worker spins briefly (new work often follows at once during a training step)
// and then sleeps on a condition variable.
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace recur {

class TaskQueue {
 public:
  using Task = std::function<void()>;

  TaskQueue();
  ~TaskQueue();
  TaskQueue(const TaskQueue&) = delete;
  TaskQueue& operator=(const TaskQueue&) = delete;

  void push(Task task);
  // JS thread only: runs `task` on the calling thread when nothing is queued or running (so
  // call order is kept) and returns true; otherwise returns false and the caller pushes it.
  bool tryRunInline(const Task& task);
  // JS thread only: whether every pushed task has finished.
  bool idle() const { return pending_.load(std::memory_order_acquire) == 0; }
  // Runs every queued task, then stops the worker. Idempotent.
  void stop();
  bool stopped() const { return stopped_; }

  // The first error since the last call, cleared. Worker thread, or the JS thread when idle().
  std::string takeError();

 private:
  void loop();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Task> tasks_;
  std::atomic<size_t> pending_{0};
  bool sleeping_ = false;
  bool quit_ = false;
  bool stopped_ = false;
  std::string error_;
  std::thread worker_;
};

}  // namespace recur
