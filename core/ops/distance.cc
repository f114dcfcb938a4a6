#include "core/ops/distance.h"

#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/ops/axis.h"
#include "core/ops/matmul.h"

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
}  // namespace

Tensor PairwiseL2(const Tensor& x, const Tensor& w) {
  CheckCpuF32("PairwiseL2", x);
  CheckCpuF32("PairwiseL2", w);
  CHECK(x.ndim() == 2 && w.ndim() == 2 && x.dim(1) == w.dim(1))
      << "PairwiseL2: x " << ShapeToString(x.shape()) << " and w " << ShapeToString(w.shape())
      << " must be [N, D] and [E, D]";
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
    if (x.requires_grad()) {
      gx = x.Clone();
      float* pgx = gx.data<float>();
      for (int64_t i = 0; i < n; ++i) {
        float rs = 0.f;
        for (int64_t j = 0; j < e; ++j) rs += ps[i * e + j];
        for (int64_t k = 0; k < d; ++k) pgx[i * d + k] *= rs;
      }
      Gemm(false, false, n, d, e, -1.f, ps, w.data<float>(), 1.f, pgx);
    }
    if (w.requires_grad()) {
      gw = w.Clone();
      float* pgw = gw.data<float>();
      for (int64_t j = 0; j < e; ++j) {
        float cs = 0.f;
        for (int64_t i = 0; i < n; ++i) cs += ps[i * e + j];
        for (int64_t k = 0; k < d; ++k) pgw[j * d + k] *= cs;
      }
      Gemm(true, false, e, d, n, -1.f, ps, x.data<float>(), 1.f, pgw);
    }
    return std::vector<Tensor>{gx, gw};
  });
}

}  // namespace onemodel::ops
