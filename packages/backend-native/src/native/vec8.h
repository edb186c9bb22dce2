// Eight float lanes (one AVX register) through GCC/Clang vector extensions, for the AVX2 + FMA
// kernels (dot.cpp, packed_gemm.cpp); unaligned loads and stores through memcpy.
#pragma once
#include <cstring>

namespace recur {

typedef float v8 __attribute__((vector_size(32)));

inline v8 load8(const float* p) {
  v8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline void store8(float* p, v8 v) { std::memcpy(p, &v, sizeof v); }

}  // namespace recur
