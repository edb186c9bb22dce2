// Fused optimizer updates with PyTorch 1.13's semantics (torch.optim single-tensor loops).
// Arithmetic in double, PyTorch's order of operations, one rounding per stored value: the
// same as the JS reference backend.
#pragma once
#include <cstddef>

namespace recur {

// Indices into @recur/core/backend's OPTIMIZER_KINDS, with the state buffers each takes
// (OPTIMIZER_STATE_COUNT); both are checked at load time (op_tables.cpp).
enum class OptimizerKind : int { Sgd, Adam, Rmsprop, Count };
inline constexpr const char* kOptimizerKindNames[] = {"sgd", "adam", "rmsprop"};
inline constexpr int kOptimizerStateCount[] = {1, 3, 3};
static_assert(sizeof(kOptimizerKindNames) / sizeof(*kOptimizerKindNames) == static_cast<size_t>(OptimizerKind::Count));

struct SgdParams {
  double lr, momentum, dampening, weightDecay;
  bool nesterov, firstStep;
};
struct AdamParams {
  double lr, beta1, beta2, eps, weightDecay;
  bool decoupled, amsgrad;
  double step;
};
struct RmspropParams {
  double lr, alpha, eps, weightDecay, momentum;
  bool centered;
};

void sgdStep(const SgdParams& u, float* param, const float* grad, float* momentum, size_t n);
void adamStep(const AdamParams& u, float* param, const float* grad, float* m, float* v, float* vMax, size_t n);
void rmspropStep(const RmspropParams& u, float* param, const float* grad, float* squareAvg, float* momentum, float* gradAvg, size_t n);

}  // namespace recur
