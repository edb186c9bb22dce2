#include "memory.h"

#include <cstdio>
#include <cstdlib>

namespace recur {

namespace {
// `value` with thousands separators ("2,000,000,000") into `out`, which holds 32 bytes.
void grouped(size_t value, char* out) {
  char digits[24];
  const int n = std::snprintf(digits, sizeof digits, "%zu", value);
  int o = 0;
  for (int i = 0; i < n; i++) {
    if (i > 0 && (n - i) % 3 == 0) out[o++] = ',';
    out[o++] = digits[i];
  }
  out[o] = '\0';
}
}  // namespace

OutOfMemory::OutOfMemory(size_t bytes, const char* purpose) noexcept : bytes_(bytes) {
  // Formatted here, into the object itself: what() is called when the heap may be exhausted.
  if (bytes == SIZE_MAX) {
    std::snprintf(message_, sizeof message_, "out of memory: %s would need more bytes than the address space holds", purpose);
    return;
  }
  char count[32];
  grouped(bytes, count);
  const double mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
  const bool gib = mib >= 1024.0;
  std::snprintf(message_, sizeof message_, "out of memory: could not allocate %s bytes (%.3g %s) for %s", count, gib ? mib / 1024.0 : mib,
                gib ? "GiB" : "MiB", purpose);
}

void* allocateAligned(size_t n, const char* purpose) {
  // aligned_alloc wants a multiple of the alignment; round up, guarding the rounding itself.
  if (n > SIZE_MAX - 63) throw OutOfMemory(SIZE_MAX, purpose);
  size_t rounded = (n + 63) / 64 * 64;
  if (rounded == 0) rounded = 64;
  void* p = std::aligned_alloc(64, rounded);
  if (p == nullptr) throw OutOfMemory(n, purpose);
  return p;
}

}  // namespace recur
