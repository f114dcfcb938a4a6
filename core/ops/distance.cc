#include "core/ops/distance.h"

#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/ops/axis.h"
#include "core/cuda_backend.h"
#include "core/ops/elementwise.h"
#include "core/ops/matmul.h"
#include "core/ops/reduce.h"
#include "core/ops/shape.h"

namespace onemodel::ops {
namespace {
std::vector<float> RowSquaredNorms(const float* p, int64_t rows, int64_t d) {
  std::vector<float> out(rows);
  for (int64_t r = 0; r < rows; ++r) {
    float s = 0.f;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < d; ++j) s += p[r * d + j] * p[r * d + j];
    out[r] = s;
  }
  return out;
}
// One side's gradient: self * (sums of s along self's rows) - op(s) other, where s [n, e] holds
// g / dist and op(s) is s or s^T (for the w side).
Tensor SelfMinusProduct(const Tensor& self, const float* s, int64_t n, int64_t e, bool trans_s, const Tensor& other) {
  Tensor out = self.Clone();
  const int64_t rows = self.dim(0), d = self.dim(1);
  float* po = out.data<float>();
  for (int64_t r = 0; r < rows; ++r) {
    float sum = 0.f;
    for (int64_t j = 0; j < (trans_s ? n : e); ++j) sum += trans_s ? s[j * e + r] : s[r * e + j];
    for (int64_t k = 0; k < d; ++k) po[r * d + k] *= sum;
  }
  Gemm(trans_s, false, rows, d, trans_s ? n : e, -1.f, s, other.data<float>(), 1.f, po);
  return out;
}

// The CUDA side: the GEMM and the row norms through the device's ops, the pointwise parts as kernels; the
// backward is the same two formulas as the CPU's, composed of device ops.
Tensor PairwiseL2Cuda(const Tensor& x, const Tensor& w) {
  const int64_t n = x.dim(0), e = w.dim(0);
  CudaBackend& cuda = RequireCudaBackend();
  const MatmulPrecisionScope f32(MatmulPrecision::kF32);  // the Laplace router's logits: f32, as on the CPU
  Tensor out;
  {
    NoGradScope no_grad;
    out = Scale(MatMul(x, w, false, true), -2.f);
    const Tensor xn = Sum(Mul(x, x), 1), wn = Sum(Mul(w, w), 1);
    cuda.DistanceFinish(F32(out), F32(xn), F32(wn), n, e);
  }
  return Record(out, "PairwiseL2", {x, w}, [x, w, n, e](const Tensor& g, const Tensor& dist) {
    const MatmulPrecisionScope f32(MatmulPrecision::kF32);
    Tensor s = Tensor::Empty({n, e}, DType::kF32, x.device());
    RequireCudaBackend().DistanceGradScale(F32(g), F32(dist), F32(s), n * e);
    // dx = x * rowsum(s) - s w, dw = w * colsum(s) - s^T x.
    Tensor gx, gw;
    if (x.requires_grad()) gx = Sub(Mul(x, Sum(s, 1, true)), MatMul(s, w));
    if (w.requires_grad()) gw = Sub(Mul(w, Reshape(Sum(s, 0), {e, 1})), MatMul(s, x, true, false));
    return std::vector<Tensor>{gx, gw};
  });
}

}  // namespace

Tensor PairwiseL2(const Tensor& x, const Tensor& w) {
  CheckF32("PairwiseL2", x);
  CheckF32("PairwiseL2", w);
  CheckSameDevice("PairwiseL2", x, w);
  CHECK(x.ndim() == 2 && w.ndim() == 2 && x.dim(1) == w.dim(1))
      << "PairwiseL2: x " << ShapeToString(x.shape()) << " and w " << ShapeToString(w.shape())
      << " must be [N, D] and [E, D]";
  if (OnCuda(x)) return PairwiseL2Cuda(x, w);
  const int64_t n = x.dim(0), e = w.dim(0), d = x.dim(1);
  Tensor out = Tensor::Empty({n, e});
  float* po = out.data<float>();
  Gemm(false, true, n, e, d, -2.f, x.data<float>(), w.data<float>(), 0.f, po);
  const std::vector<float> xn = RowSquaredNorms(x.data<float>(), n, d);
  const std::vector<float> wn = RowSquaredNorms(w.data<float>(), e, d);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < e; ++j) po[i * e + j] = std::sqrt(std::max(po[i * e + j] + xn[i] + wn[j], 0.f));
  }
  return Record(out, "PairwiseL2", {x, w}, [x, w, n, e, d](const Tensor& g, const Tensor& dist) {
    // With s = g / dist: dx = x * rowsum(s) - s w, dw = w * colsum(s) - s^T x.
    Tensor s = Tensor::Empty({n, e});
    const float* pg = g.data<float>();
    const float* pd = dist.data<float>();
    float* ps = s.data<float>();
    for (int64_t i = 0; i < n * e; ++i) ps[i] = pd[i] > 0.f ? pg[i] / pd[i] : 0.f;
    Tensor gx, gw;
    if (x.requires_grad()) gx = SelfMinusProduct(x, ps, n, e, /*trans_s=*/false, w);
    if (w.requires_grad()) gw = SelfMinusProduct(w, ps, n, e, /*trans_s=*/true, x);
    return std::vector<Tensor>{gx, gw};
  });
}

}  // namespace onemodel::ops
