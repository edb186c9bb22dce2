#include "optimizers.h"

#include <algorithm>
#include <cmath>

namespace recur {

// d = g + wd·p; with momentum: buf = d (first step) or μ·buf + (1 − dampening)·d, and
// d = d + μ·buf (Nesterov) or buf; then p −= lr·d.
void sgdStep(const SgdParams& u, float* param, const float* grad, float* buf, size_t n) {
  for (size_t i = 0; i < n; i++) {
    double d = grad[i];
    if (u.weightDecay != 0) d += u.weightDecay * static_cast<double>(param[i]);
    if (u.momentum != 0) {
      buf[i] = static_cast<float>(u.firstStep ? d : u.momentum * static_cast<double>(buf[i]) + (1 - u.dampening) * d);
      d = u.nesterov ? d + u.momentum * static_cast<double>(buf[i]) : static_cast<double>(buf[i]);
    }
    param[i] = static_cast<float>(static_cast<double>(param[i]) + -u.lr * d);
  }
}

// Adam (L2 decay into the gradient) or AdamW (decoupled: p *= 1 − lr·wd first):
// m = β1·m + (1 − β1)·g, v = β2·v + (1 − β2)·g², vMax = max(vMax, v) with amsgrad,
// p −= (lr / (1 − β1^t)) · m / (sqrt(v or vMax) / sqrt(1 − β2^t) + eps).
void adamStep(const AdamParams& u, float* param, const float* grad, float* m, float* v, float* vMax, size_t n) {
  const double stepSize = u.lr / (1 - std::pow(u.beta1, u.step));
  const double correction2Sqrt = std::sqrt(1 - std::pow(u.beta2, u.step));
  const double decay = 1 - u.lr * u.weightDecay;
  for (size_t i = 0; i < n; i++) {
    double g = grad[i];
    double p = param[i];
    if (u.weightDecay != 0) {
      if (u.decoupled) {
        p = static_cast<float>(p * decay);
      } else {
        g += u.weightDecay * p;
      }
    }
    const float mi = static_cast<float>(static_cast<double>(m[i]) * u.beta1 + (1 - u.beta1) * g);
    const float vi = static_cast<float>(static_cast<double>(v[i]) * u.beta2 + (1 - u.beta2) * g * g);
    m[i] = mi;
    v[i] = vi;
    double second = vi;
    if (u.amsgrad) {
      const float vm = std::max(vMax[i], vi);
      vMax[i] = vm;
      second = vm;
    }
    const double denom = std::sqrt(second) / correction2Sqrt + u.eps;
    param[i] = static_cast<float>(p + -stepSize * (static_cast<double>(mi) / denom));
  }
}

// g += wd·p; sq = α·sq + (1 − α)·g²; centered: ga = α·ga + (1 − α)·g, avg = sqrt(sq − ga²) + eps,
// else avg = sqrt(sq) + eps; momentum: buf = μ·buf + g/avg, p −= lr·buf; else p −= lr·g/avg.
void rmspropStep(const RmspropParams& u, float* param, const float* grad, float* squareAvg, float* buf, float* gradAvg, size_t n) {
  for (size_t i = 0; i < n; i++) {
    double g = grad[i];
    if (u.weightDecay != 0) g += u.weightDecay * static_cast<double>(param[i]);
    const float sq = static_cast<float>(static_cast<double>(squareAvg[i]) * u.alpha + (1 - u.alpha) * g * g);
    squareAvg[i] = sq;
    double avg;
    if (u.centered) {
      const float ga = static_cast<float>(static_cast<double>(gradAvg[i]) * u.alpha + (1 - u.alpha) * g);
      gradAvg[i] = ga;
      avg = std::sqrt(static_cast<double>(sq) - static_cast<double>(ga) * ga) + u.eps;
    } else {
      avg = std::sqrt(static_cast<double>(sq)) + u.eps;
    }
    if (u.momentum > 0) {
      const float b = static_cast<float>(static_cast<double>(buf[i]) * u.momentum + g / avg);
      buf[i] = b;
      param[i] = static_cast<float>(static_cast<double>(param[i]) + -u.lr * b);
    } else {
      param[i] = static_cast<float>(static_cast<double>(param[i]) + -u.lr * (g / avg));
    }
  }
}

}  // namespace recur
