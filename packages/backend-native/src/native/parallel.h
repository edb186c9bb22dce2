// Parallel loops over batch rows: OpenMP when the build found it, a plain loop otherwise.
// Small problems stay on the calling (queue worker) thread: fork/join costs more than it saves.
#pragma once
#include <cstddef>
#include <cstdlib>
#ifdef RECUR_OPENMP
#include <omp.h>
#endif

namespace recur {

// Work (elements touched) below which a loop runs serially.
constexpr size_t kParallelGrain = 16384;

// RECUR_KERNEL_THREADS=0 keeps the kernel loops serial (BLAS still uses its threads). The
// OpenMP threads must wait passively (OMP_WAIT_POLICY=passive, which the JS loader sets
// before the addon loads): spinning OpenMP threads fight OpenBLAS's own threads for the same
// few cores and lose far more than they gain (measured: about −30% on 2 cores).
inline bool kernelThreadsEnabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("RECUR_KERNEL_THREADS");
    return v == nullptr || v[0] != '0';
  }();
  return enabled;
}

// `body` must not throw: an exception cannot leave an OpenMP region (std::terminate). The
// bodies are plain arithmetic on memory allocated before the loop; scratch is allocated
// outside, where a failure reaches the task queue as an exception (memory.h).
template <typename F>
inline void parallelRows(int threads, size_t rows, size_t workPerRow, F&& body) {
#ifdef RECUR_OPENMP
  if (kernelThreadsEnabled() && threads > 1 && rows > 1 && rows * workPerRow >= kParallelGrain) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (long r = 0; r < static_cast<long>(rows); r++) body(static_cast<size_t>(r));
    return;
  }
#endif
  for (size_t r = 0; r < rows; r++) body(r);
}

}  // namespace recur
