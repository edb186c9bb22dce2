// Fused softmax cross-entropy: mean loss over counted rows and its gradient wrt the logits.
#pragma once
#include <cstddef>
#include <cstdint>

namespace recur {

// Writes dLogits [rows, classes] in full ((softmax − onehot) / count, zero rows for ignored
// targets) and returns the mean loss. Stable for any finite logits (max subtracted).
double softmaxCrossEntropy(size_t rows, size_t classes, const float* logits, const int32_t* targets, int32_t ignoreIndex, double count, float* dLogits,
                           int threads);

}  // namespace recur
