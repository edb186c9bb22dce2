// Checked allocations: a failed allocation throws OutOfMemory, which carries the size asked for,
// so that JS gets an error naming it (guard.h turns it into one with code RECUR_OUT_OF_MEMORY)
// instead of a bare std::bad_alloc, or an abort where nothing catches that.
//
// No Node-API here: kernels and the task queue use these on the worker thread.
#pragma once
#include <cstddef>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <vector>

namespace recur {

class OutOfMemory : public std::bad_alloc {
 public:
  // `purpose` must outlive the exception (a string literal): nothing here may allocate, as the
  // heap may be the very thing that ran out.
  OutOfMemory(size_t bytes, const char* purpose) noexcept;
  const char* what() const noexcept override { return message_; }
  size_t bytes() const noexcept { return bytes_; }

 private:
  size_t bytes_;
  char message_[192];
};

// `n` bytes, 64-byte aligned (a whole number of cache lines), to be released with std::free.
// Never null: throws OutOfMemory.
void* allocateAligned(size_t n, const char* purpose);

// Resizes `v` to at least `n` elements and returns its data: the kernels' reusable scratch.
// std::vector throws std::bad_alloc or std::length_error without the size; this names it.
template <typename T>
T* growScratch(std::vector<T>& v, size_t n, const char* purpose) {
  if (v.size() >= n) return v.data();
  if (n > v.max_size()) throw OutOfMemory(SIZE_MAX, purpose);
  try {
    v.resize(n);
  } catch (const std::bad_alloc&) {
    throw OutOfMemory(n * sizeof(T), purpose);
  } catch (const std::length_error&) {
    throw OutOfMemory(n * sizeof(T), purpose);
  }
  return v.data();
}

// A new vector of `n` copies of `value` (per-call scratch such as double accumulators).
template <typename T>
std::vector<T> scratchVector(size_t n, T value, const char* purpose) {
  std::vector<T> v;
  if (n > v.max_size()) throw OutOfMemory(SIZE_MAX, purpose);
  try {
    v.assign(n, value);
  } catch (const std::bad_alloc&) {
    throw OutOfMemory(n * sizeof(T), purpose);
  } catch (const std::length_error&) {
    throw OutOfMemory(n * sizeof(T), purpose);
  }
  return v;
}

}  // namespace recur
