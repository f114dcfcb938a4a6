// Elementwise ops. Binary ops broadcast as numpy does: shapes aligned from the right, each pair of dims
// equal or one of them 1. The common cases (one shape a suffix of the other: a bias, a scalar) take a
// vectorized fast path; per-row values such as [T, 1] against [T, E] take the general strided one.
#ifndef ONEMODEL_CORE_OPS_ELEMENTWISE_H_
#define ONEMODEL_CORE_OPS_ELEMENTWISE_H_

#include <cstdint>
#include <vector>

#include "core/ops/unary_math.h"
#include "core/tensor.h"

namespace onemodel::ops {

Tensor Add(const Tensor& a, const Tensor& b);
Tensor Sub(const Tensor& a, const Tensor& b);
Tensor Mul(const Tensor& a, const Tensor& b);
Tensor Div(const Tensor& a, const Tensor& b);
Tensor Scale(const Tensor& x, float factor);
Tensor AddScalar(const Tensor& x, float value);
// x [..., D] + bias [D].
Tensor BiasAdd(const Tensor& x, const Tensor& bias);
// Sums `x` down to `shape`, which broadcasts to x's shape (the adjoint of broadcasting).
Tensor SumToShape(const Tensor& x, const Shape& shape);
// The mask [B, width] on `device` (1 real, 0 padding; padding is zeroed by multiplying with it) of examples whose
// first lengths[b] positions (at most width) are real.
Tensor LengthMask(const std::vector<int64_t>& lengths, int64_t width, Device device);

// Activations and pointwise functions; each runs on CPU and CUDA.
Tensor Unary(const Tensor& x, UnaryKind kind);
inline Tensor Relu(const Tensor& x) { return Unary(x, UnaryKind::kRelu); }
inline Tensor Gelu(const Tensor& x) { return Unary(x, UnaryKind::kGelu); }
inline Tensor Silu(const Tensor& x) { return Unary(x, UnaryKind::kSilu); }
inline Tensor Cube(const Tensor& x) { return Unary(x, UnaryKind::kCube); }
inline Tensor Softplus(const Tensor& x) { return Unary(x, UnaryKind::kSoftplus); }
inline Tensor Sigmoid(const Tensor& x) { return Unary(x, UnaryKind::kSigmoid); }
inline Tensor Tanh(const Tensor& x) { return Unary(x, UnaryKind::kTanh); }
inline Tensor Exp(const Tensor& x) { return Unary(x, UnaryKind::kExp); }
inline Tensor Log(const Tensor& x) { return Unary(x, UnaryKind::kLog); }
// Standard normal CDF Φ(x) (the smooth load estimator of Shazeer et al.).
inline Tensor NormalCdf(const Tensor& x) { return Unary(x, UnaryKind::kNormalCdf); }

}  // namespace onemodel::ops

#endif  // ONEMODEL_CORE_OPS_ELEMENTWISE_H_
