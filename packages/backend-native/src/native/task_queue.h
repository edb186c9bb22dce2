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
  // Runs every queued task, then stops the worker. Idempotent.
  void stop();
  bool stopped() const { return stopped_; }

  // Worker thread only: the first error since the last call, cleared.
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
