// An ordered queue of tasks run by one worker thread.
//
// The JS thread pushes closures; the worker runs them strictly in push order. After the queue
// runs dry the worker spins briefly (new work often follows at once during a training step)
// and then sleeps on a condition variable.
//
// Failures: an exception must never leave the worker thread (that would std::terminate the
// process), so every task runs inside a catch-all. The first failure (the exception itself,
// e.g. OutOfMemory from a kernel's scratch, and the label of its task) is kept until the next
// signal task (read/sync) takes it and rejects its Promise; later failures before that one is
// taken are dropped, as they usually follow from it. The queue stays usable: tasks after a
// failed one still run, and once the failure is taken later calls work normally (if memory
// has come back). The outputs of a failed task are left unwritten: they hold undefined values
// (whatever the allocator returned), and so does everything computed from them afterwards,
// until the caller, told by the rejected read/sync, stops using them.
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace recur {

class TaskQueue {
 public:
  using Task = std::function<void()>;

  // What failed: the exception and the label of its task (a string literal, may be null).
  struct Failure {
    std::exception_ptr error;
    const char* label = nullptr;
    explicit operator bool() const { return static_cast<bool>(error); }
  };

  // Throws std::system_error when the worker thread cannot be started.
  TaskQueue();
  ~TaskQueue();
  TaskQueue(const TaskQueue&) = delete;
  TaskQueue& operator=(const TaskQueue&) = delete;

  // `label` names the task in a failure's message; it must outlive the queue (a literal).
  void push(Task task, const char* label = nullptr);
  // JS thread only: runs `task` on the calling thread when nothing is queued or running (so
  // call order is kept) and returns true; otherwise returns false and the caller pushes it.
  // A failure is recorded as the worker would, never thrown.
  bool tryRunInline(const Task& task, const char* label = nullptr);
  // JS thread only: pushes `task` and blocks the calling thread until the worker has run it
  // (after everything pushed before it). The blocking read's way of waiting.
  void pushAndWait(Task task, const char* label = nullptr);
  // JS thread only: whether every pushed task has finished.
  bool idle() const { return pending_.load(std::memory_order_acquire) == 0; }
  // Runs every queued task, then stops the worker. Idempotent.
  void stop();
  bool stopped() const { return stopped_; }

  // The first failure since the last call, cleared. Worker thread, or the JS thread when idle().
  Failure takeFailure();

 private:
  struct Entry {
    Task task;
    const char* label;
  };
  void loop();
  // Runs one task, recording rather than propagating what it throws.
  void run(const Task& task, const char* label) noexcept;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Entry> tasks_;
  std::atomic<size_t> pending_{0};
  bool sleeping_ = false;
  bool quit_ = false;
  bool stopped_ = false;
  Failure failure_;
  std::thread worker_;
};

}  // namespace recur
