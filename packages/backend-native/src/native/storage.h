// Reference-counted float32 storage shared by JS buffer handles and queued tasks.
//
// A JS buffer holds one reference (through its BufferHandle); every queued task that reads or
// writes a buffer captures another. `dispose()` from JS drops the handle's reference only, so
// a buffer disposed while work on it is still queued stays alive until that work has run.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

namespace recur {

struct Storage {
  float* data = nullptr;
  size_t length = 0;

  explicit Storage(size_t n) : length(n) {
    size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
    if (bytes == 0) bytes = 64;
    data = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!data) throw std::bad_alloc();
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
