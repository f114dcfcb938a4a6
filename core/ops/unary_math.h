// Elementwise activation formulas, shared by the CPU loops and the CUDA kernels so the two cannot drift.
// Each kind has a forward y = f(x) and a derivative dy/dx expressed through x and y.
#ifndef ONEMODEL_CORE_OPS_UNARY_MATH_H_
#define ONEMODEL_CORE_OPS_UNARY_MATH_H_

#include <cmath>
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

template <UnaryKind K>
OM_HD float UnaryForward(float x) {
  if constexpr (K == UnaryKind::kRelu) return x > 0.f ? x : 0.f;
  if constexpr (K == UnaryKind::kGelu) return 0.5f * x * (1.f + erff(x * kInvSqrt2));  // exact (erf) GELU
  if constexpr (K == UnaryKind::kSilu) return x / (1.f + expf(-x));
  if constexpr (K == UnaryKind::kCube) return x * x * x;
  // softplus(x) = log(1 + e^x), written to stay finite for large |x|.
  if constexpr (K == UnaryKind::kSoftplus) return fmaxf(x, 0.f) + log1pf(expf(-fabsf(x)));
  if constexpr (K == UnaryKind::kSigmoid) return 1.f / (1.f + expf(-x));
  if constexpr (K == UnaryKind::kTanh) return tanhf(x);
  if constexpr (K == UnaryKind::kExp) return expf(x);
  if constexpr (K == UnaryKind::kLog) return logf(x);
  if constexpr (K == UnaryKind::kNormalCdf) return 0.5f * (1.f + erff(x * kInvSqrt2));
  return 0.f;
}

template <UnaryKind K>
OM_HD float UnaryDerivative(float x, float y) {
  if constexpr (K == UnaryKind::kRelu) return x > 0.f ? 1.f : 0.f;
  if constexpr (K == UnaryKind::kGelu) {
    return 0.5f * (1.f + erff(x * kInvSqrt2)) + x * kInvSqrt2Pi * expf(-0.5f * x * x);
  }
  if constexpr (K == UnaryKind::kSilu) {
    float s = 1.f / (1.f + expf(-x));
    return s * (1.f + x * (1.f - s));
  }
  if constexpr (K == UnaryKind::kCube) return 3.f * x * x;
  if constexpr (K == UnaryKind::kSoftplus) return 1.f / (1.f + expf(-x));
  if constexpr (K == UnaryKind::kSigmoid) return y * (1.f - y);
  if constexpr (K == UnaryKind::kTanh) return 1.f - y * y;
  if constexpr (K == UnaryKind::kExp) return y;
  if constexpr (K == UnaryKind::kLog) return 1.f / x;
  if constexpr (K == UnaryKind::kNormalCdf) return kInvSqrt2Pi * expf(-0.5f * x * x);
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

}  // namespace onemodel

#endif  // ONEMODEL_CORE_OPS_UNARY_MATH_H_
