// Branch-free float32 exp / sigmoid / tanh that compilers vectorise inside the gate loops.
// exp: Cephes-style range reduction x = n·ln2 + r and a degree-6 polynomial, about 1–2 ulp
// on [-87, 88]; the input is clamped there (exp(-87) ≈ 1.6e-38, so sigmoid/tanh saturate
// exactly as they should and never overflow to inf or NaN).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace recur {

static inline float fastExp(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return y * scale;
}

// σ(x) without exp of a large positive number: t = e^{-|x|} ∈ (0, 1].
static inline float fastSigmoid(float x) {
  const float t = fastExp(-std::fabs(x));
  const float inv = 1.0f / (1.0f + t);
  return x >= 0.0f ? inv : t * inv;
}

// tanh(x) = sign(x)·(1 − t)/(1 + t), t = e^{−2|x|}.
static inline float fastTanh(float x) {
  const float ax = std::fabs(x);
  const float t = fastExp(-2.0f * ax);
  float y = (1.0f - t) / (1.0f + t);
  y = ax < 0.0004f ? ax : y;  // |tanh x − x| < x³/3: below float32 resolution there
  return std::copysign(y, x);
}

}  // namespace recur
