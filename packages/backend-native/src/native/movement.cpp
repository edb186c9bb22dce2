#include "movement.h"

#include <cstring>

#include "elementwise.h"
#include "memory.h"

namespace recur {

namespace {
int64_t product(const std::vector<int64_t>& shape, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; i++) p *= shape[i];
  return p;
}
}  // namespace

void permute(const float* x, const std::vector<int64_t>& shape, const std::vector<int64_t>& perm, float* out) {
  const size_t rank = shape.size();
  std::vector<int64_t> inStrides(rank);
  int64_t s = 1;
  for (int64_t d = static_cast<int64_t>(rank) - 1; d >= 0; d--) {
    inStrides[d] = s;
    s *= shape[d];
  }
  std::vector<int64_t> outShape(rank), readStrides(rank);
  for (size_t d = 0; d < rank; d++) {
    outShape[d] = shape[perm[d]];
    readStrides[d] = inStrides[perm[d]];
  }
  forEachStrided(outShape, readStrides, readStrides, [&](int64_t i, int64_t xi, int64_t) { out[i] = x[xi]; });
}

void concat(const std::vector<const float*>& xs, const std::vector<std::vector<int64_t>>& shapes, size_t axis, float* out) {
  const int64_t outer = product(shapes[0], 0, axis);
  const int64_t inner = product(shapes[0], axis + 1, shapes[0].size());
  int64_t along = 0;
  for (const auto& shape : shapes) along += shape[axis];
  const int64_t outRow = along * inner;
  int64_t start = 0;
  for (size_t n = 0; n < xs.size(); n++) {
    const int64_t block = shapes[n][axis] * inner;
    for (int64_t o = 0; o < outer; o++) std::memcpy(out + o * outRow + start, xs[n] + o * block, sizeof(float) * block);
    start += block;
  }
}

void slice(const float* x, const std::vector<int64_t>& shape, size_t axis, int64_t start, int64_t length, float* out) {
  const int64_t outer = product(shape, 0, axis);
  const int64_t along = shape[axis];
  const int64_t inner = product(shape, axis + 1, shape.size());
  const int64_t block = length * inner;
  for (int64_t o = 0; o < outer; o++) std::memcpy(out + o * block, x + (o * along + start) * inner, sizeof(float) * block);
}

void gatherRows(const float* x, size_t width, const int32_t* index, size_t count, float* out) {
  for (size_t i = 0; i < count; i++) std::memcpy(out + i * width, x + static_cast<size_t>(index[i]) * width, sizeof(float) * width);
}

void scatterAddRows(const float* g, size_t width, const int32_t* index, size_t count, size_t rows, float* out) {
  std::vector<double> sums = scratchVector(rows * width, 0.0, "scatterAddRows' accumulators (kernel scratch)");
  for (size_t i = 0; i < count; i++) {
    double* to = sums.data() + static_cast<size_t>(index[i]) * width;
    const float* from = g + i * width;
    for (size_t j = 0; j < width; j++) to[j] += from[j];
  }
  for (size_t i = 0; i < rows * width; i++) out[i] = static_cast<float>(sums[i]);
}

}  // namespace recur
