// Reference-counted float32 storage shared by JS buffer handles and queued tasks.
//
// A JS buffer holds one reference (through its BufferHandle); every queued task that reads or
// writes a buffer captures another. `dispose()` from JS drops the handle's reference only, so
// a buffer disposed while work on it is still queued stays alive until that work has run.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "memory.h"

namespace recur {

struct Storage {
  float* data = nullptr;
  size_t length = 0;

  // Throws OutOfMemory naming the bytes asked for (the caller's guard makes it a JS error).
  explicit Storage(size_t n) : length(n) {
    if (n > SIZE_MAX / sizeof(float)) throw OutOfMemory(SIZE_MAX, "a buffer");
    data = static_cast<float*>(allocateAligned(n * sizeof(float), "a buffer"));
  }
  ~Storage() { std::free(data); }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

using StoragePtr = std::shared_ptr<Storage>;

inline StoragePtr makeStorage(size_t n) { return std::make_shared<Storage>(n); }

// What a JS buffer object points at (through a Napi::External). `storage` is reset by dispose.
struct BufferHandle {
  StoragePtr storage;
  size_t length = 0;
  bool accounted = false;  // whether its bytes are still reported to V8 as external memory
};

}  // namespace recur
