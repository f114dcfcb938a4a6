// Elementwise activation formulas, shared by the CPU loops and the CUDA kernels so the two cannot drift.
// Each kind has a forward y = f(x) and a derivative dy/dx expressed through x and y.
#ifndef ONEMODEL_CORE_OPS_UNARY_MATH_H_
#define ONEMODEL_CORE_OPS_UNARY_MATH_H_

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#ifdef __CUDACC__
#define OM_HD __host__ __device__ __forceinline__
#else
#define OM_HD inline
#endif

namespace onemodel {

enum class UnaryKind { kRelu, kGelu, kSilu, kCube, kSoftplus, kSigmoid, kTanh, kExp, kLog, kNormalCdf };

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

// exp(x) within ~2 ulp, branch-free so loops over it vectorize (glibc's expf is a scalar call).
// Cephes' expf: x = n ln2 + r with a two-part ln2, a degree-7 polynomial for e^r, then 2^n built in the
// exponent bits. Inputs are clamped so 2^n stays a normal float; the ends are patched to 0 and inf.
OM_HD float ExpF(float input) {
  const float x = input < -87.3f ? -87.3f : (input > 88.3f ? 88.3f : input);
  const float n = rintf(x * 1.44269504088896341f);
  float r = fmaf(n, -0.693359375f, x);
  r = fmaf(n, 2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = fmaf(p, r, 1.3981999507e-3f);
  p = fmaf(p, r, 8.3334519073e-3f);
  p = fmaf(p, r, 4.1665795894e-2f);
  p = fmaf(p, r, 1.6666665459e-1f);
  p = fmaf(p, r, 5.0000001201e-1f);
  p = fmaf(p, r * r, r) + 1.f;
  const int bits = (static_cast<int>(n) + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof(scale));
  const float y = p * scale;
  return input < -87.3f ? 0.f : (input > 88.72f ? INFINITY : y);
}

// erfc(x) with relative error < 1.2e-7 everywhere (Numerical Recipes' erfcc, Chebyshev fit), through
// ExpF so it vectorizes. Relative accuracy in the tail matters for GELU and Φ at large negative inputs.
OM_HD float ErfcF(float x) {
  const float z = fabsf(x);
  const float t = 1.f / fmaf(0.5f, z, 1.f);
  float p = 0.17087277f;
  p = fmaf(p, t, -0.82215223f);
  p = fmaf(p, t, 1.48851587f);
  p = fmaf(p, t, -1.13520398f);
  p = fmaf(p, t, 0.27886807f);
  p = fmaf(p, t, -0.18628806f);
  p = fmaf(p, t, 0.09678418f);
  p = fmaf(p, t, 0.37409196f);
  p = fmaf(p, t, 1.00002368f);
  p = fmaf(p, t, -1.26551223f);
  const float r = t * ExpF(-z * z + p);
  return x >= 0.f ? r : 2.f - r;
}

template <UnaryKind K>
OM_HD float UnaryForward(float x) {
  if constexpr (K == UnaryKind::kRelu) return x > 0.f ? x : 0.f;
  if constexpr (K == UnaryKind::kGelu) return 0.5f * x * ErfcF(-x * kInvSqrt2);  // exact (erf) GELU: x Φ(x)
  if constexpr (K == UnaryKind::kSilu) return x / (1.f + ExpF(-x));
  if constexpr (K == UnaryKind::kCube) return x * x * x;
  // softplus(x) = log(1 + e^x), written to stay finite for large |x|.
  if constexpr (K == UnaryKind::kSoftplus) return fmaxf(x, 0.f) + log1pf(expf(-fabsf(x)));
  if constexpr (K == UnaryKind::kSigmoid) return 1.f / (1.f + ExpF(-x));
  if constexpr (K == UnaryKind::kTanh) return tanhf(x);
  if constexpr (K == UnaryKind::kExp) return ExpF(x);
  if constexpr (K == UnaryKind::kLog) return logf(x);
  if constexpr (K == UnaryKind::kNormalCdf) return 0.5f * ErfcF(-x * kInvSqrt2);
  return 0.f;
}

template <UnaryKind K>
OM_HD float UnaryDerivative(float x, float y) {
  if constexpr (K == UnaryKind::kRelu) return x > 0.f ? 1.f : 0.f;
  if constexpr (K == UnaryKind::kGelu) {
    return 0.5f * ErfcF(-x * kInvSqrt2) + x * kInvSqrt2Pi * ExpF(-0.5f * x * x);
  }
  if constexpr (K == UnaryKind::kSilu) {
    float s = 1.f / (1.f + ExpF(-x));
    return s * (1.f + x * (1.f - s));
  }
  if constexpr (K == UnaryKind::kCube) return 3.f * x * x;
  if constexpr (K == UnaryKind::kSoftplus) return 1.f / (1.f + ExpF(-x));
  if constexpr (K == UnaryKind::kSigmoid) return y * (1.f - y);
  if constexpr (K == UnaryKind::kTanh) return 1.f - y * y;
  if constexpr (K == UnaryKind::kExp) return y;
  if constexpr (K == UnaryKind::kLog) return 1.f / x;
  if constexpr (K == UnaryKind::kNormalCdf) return kInvSqrt2Pi * ExpF(-0.5f * x * x);
  return 0.f;
}

// Calls fn(std::integral_constant<UnaryKind, K>{}) for the runtime kind: the loops are instantiated once per kind so
// the per-element code has no switch.
template <typename Fn>
void DispatchUnary(UnaryKind kind, Fn&& fn) {
  switch (kind) {
    case UnaryKind::kRelu: fn(std::integral_constant<UnaryKind, UnaryKind::kRelu>{}); return;
    case UnaryKind::kGelu: fn(std::integral_constant<UnaryKind, UnaryKind::kGelu>{}); return;
    case UnaryKind::kSilu: fn(std::integral_constant<UnaryKind, UnaryKind::kSilu>{}); return;
    case UnaryKind::kCube: fn(std::integral_constant<UnaryKind, UnaryKind::kCube>{}); return;
    case UnaryKind::kSoftplus: fn(std::integral_constant<UnaryKind, UnaryKind::kSoftplus>{}); return;
    case UnaryKind::kSigmoid: fn(std::integral_constant<UnaryKind, UnaryKind::kSigmoid>{}); return;
    case UnaryKind::kTanh: fn(std::integral_constant<UnaryKind, UnaryKind::kTanh>{}); return;
    case UnaryKind::kExp: fn(std::integral_constant<UnaryKind, UnaryKind::kExp>{}); return;
    case UnaryKind::kLog: fn(std::integral_constant<UnaryKind, UnaryKind::kLog>{}); return;
    case UnaryKind::kNormalCdf: fn(std::integral_constant<UnaryKind, UnaryKind::kNormalCdf>{}); return;
  }
}

// f32 -> bf16 bits with round-to-nearest-even (NaN stays a quiet NaN): the operand rounding of the mixed-precision
// products, the same on the CPU (core/tensor.cc) and in the CUDA cast kernel.
OM_HD uint16_t RoundToBF16(float value) {
  uint32_t bits;
  memcpy(&bits, &value, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

}  // namespace onemodel

#endif  // ONEMODEL_CORE_OPS_UNARY_MATH_H_
