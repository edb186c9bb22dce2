#include "loss.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "memory.h"
#include "parallel.h"

namespace recur {

double softmaxCrossEntropy(size_t rows, size_t classes, const float* logits, const int32_t* targets, int32_t ignoreIndex, double count, float* dLogits,
                           int threads) {
  std::vector<double> rowLoss = scratchVector(rows, 0.0, "the per-row losses (kernel scratch)");
  parallelRows(threads, rows, classes * 8, [&](size_t r) {
    const float* o = logits + r * classes;
    float* d = dLogits + r * classes;
    const int32_t y = targets[r];
    if (y == ignoreIndex) {
      std::memset(d, 0, sizeof(float) * classes);
      return;
    }
    double max = -INFINITY;
    for (size_t j = 0; j < classes; j++) max = o[j] > max ? o[j] : max;
    double sum = 0;
    for (size_t j = 0; j < classes; j++) sum += std::exp(o[j] - max);
    rowLoss[r] = std::log(sum) + max - o[y];
    const double inv = 1.0 / sum;
    for (size_t j = 0; j < classes; j++) {
      const double p = std::exp(o[j] - max) * inv;
      d[j] = static_cast<float>((p - (static_cast<int32_t>(j) == y ? 1.0 : 0.0)) / count);
    }
  });
  double total = 0;
  for (double l : rowLoss) total += l;
  return total / count;
}

}  // namespace recur
