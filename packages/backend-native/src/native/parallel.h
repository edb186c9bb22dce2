// Parallel loops over batch rows: OpenMP when the build found it, a plain loop otherwise.
// Small problems stay on the calling (queue worker) thread: fork/join costs more than it saves.
#pragma once
#include <cstddef>
#ifdef RECUR_OPENMP
#include <omp.h>
#endif

namespace recur {

// Work (elements touched) below which a loop runs serially.
constexpr size_t kParallelGrain = 16384;

template <typename F>
inline void parallelRows(int threads, size_t rows, size_t workPerRow, F&& body) {
#ifdef RECUR_OPENMP
  if (threads > 1 && rows > 1 && rows * workPerRow >= kParallelGrain) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (long r = 0; r < static_cast<long>(rows); r++) body(static_cast<size_t>(r));
    return;
  }
#endif
  for (size_t r = 0; r < rows; r++) body(r);
}

}  // namespace recur
