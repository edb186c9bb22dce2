// Data movement: permute, concat, slice, gather and scatter-add of rows.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace recur {

void permute(const float* x, const std::vector<int64_t>& shape, const std::vector<int64_t>& perm, float* out);
// Each input i has `shapes[i]`; all agree except on `axis`.
void concat(const std::vector<const float*>& xs, const std::vector<std::vector<int64_t>>& shapes, size_t axis, float* out);
void slice(const float* x, const std::vector<int64_t>& shape, size_t axis, int64_t start, int64_t length, float* out);
void gatherRows(const float* x, size_t width, const int32_t* index, size_t count, float* out);
// out (rows × width) = 0, then out[index[i]] += g[i]; sums in double.
void scatterAddRows(const float* g, size_t width, const int32_t* index, size_t count, size_t rows, float* out);

}  // namespace recur
