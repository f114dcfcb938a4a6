#include "core/ops/layer_norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/ops/axis.h"

namespace onemodel::ops {

namespace {
Tensor LayerNormCuda(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, int64_t rows, int64_t d) {
  Tensor out = Tensor::Empty(x.shape(), DType::kF32, x.device());
  Tensor stats = Tensor::Empty({rows, 2}, DType::kF32, x.device());
  RequireCudaBackend().LayerNormForward(F32(x), F32(gamma), F32(beta), F32(out), F32(stats), rows, d, eps);
  return Record(out, "LayerNorm", {x, gamma, beta}, [x, gamma, stats, rows, d](const Tensor& g, const Tensor&) {
    Tensor gx = Tensor::Empty(x.shape(), DType::kF32, x.device());
    Tensor ggamma = Tensor::Empty({d}, DType::kF32, x.device());
    Tensor gbeta = Tensor::Empty({d}, DType::kF32, x.device());
    RequireCudaBackend().LayerNormBackward(F32(x), F32(gamma), F32(stats), F32(g), F32(gx), F32(ggamma), F32(gbeta),
                                           rows, d);
    return std::vector<Tensor>{gx, ggamma, gbeta};
  });
}
}  // namespace

Tensor LayerNorm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps) {
  CheckF32("LayerNorm", x);
  CheckF32("LayerNorm", gamma);
  CheckF32("LayerNorm", beta);
  CheckSameDevice("LayerNorm", x, gamma);
  CheckSameDevice("LayerNorm", x, beta);
  const int64_t d = x.dim(-1);
  CHECK(gamma.shape() == Shape{d} && beta.shape() == Shape{d})
      << "LayerNorm: gamma " << ShapeToString(gamma.shape()) << " and beta " << ShapeToString(beta.shape())
      << " must be [" << d << "] for input " << ShapeToString(x.shape());
  const int64_t rows = d == 0 ? 0 : x.numel() / d;
  if (OnCuda(x)) return LayerNormCuda(x, gamma, beta, eps, rows, d);
  Tensor out = Tensor::Empty(x.shape());
  // Per-row mean and 1/std, kept for the backward pass.
  Tensor stats = Tensor::Empty({rows, 2});
  const float* px = x.data<float>();
  const float* pgm = gamma.data<float>();
  const float* pbt = beta.data<float>();
  float* po = out.data<float>();
  float* ps = stats.data<float>();
#pragma omp parallel for if (x.numel() > (1 << 14))
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = px + r * d;
    float mean = 0.f;
#pragma omp simd reduction(+ : mean)
    for (int64_t j = 0; j < d; ++j) mean += xr[j];
    mean /= d;
    float var = 0.f;
#pragma omp simd reduction(+ : var)
    for (int64_t j = 0; j < d; ++j) var += (xr[j] - mean) * (xr[j] - mean);
    const float rstd = 1.f / std::sqrt(var / d + eps);
    for (int64_t j = 0; j < d; ++j) po[r * d + j] = (xr[j] - mean) * rstd * pgm[j] + pbt[j];
    ps[2 * r] = mean;
    ps[2 * r + 1] = rstd;
  }
  return Record(out, "LayerNorm", {x, gamma, beta}, [x, gamma, beta, stats, d, rows](const Tensor& g, const Tensor&) {
    Tensor gx = Tensor::Empty(x.shape());
    Tensor ggamma = Tensor::Zeros({d});
    Tensor gbeta = Tensor::Zeros({d});
    const float* px = x.data<float>();
    const float* pg = g.data<float>();
    const float* pgm = gamma.data<float>();
    const float* ps = stats.data<float>();
    float* pgx = gx.data<float>();
    // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = g * gamma.
    // Parameter gradients sum over rows: each fixed chunk of rows keeps its own partial sums (the chunking
    // does not depend on the thread count, so results are deterministic), added up in chunk order.
    const int64_t chunks = std::min<int64_t>(rows, 64);
    std::vector<float> partial(chunks * 2 * d, 0.f);
#pragma omp parallel for if (x.numel() > (1 << 14))
    for (int64_t c = 0; c < chunks; ++c) {
      float* part_gamma = partial.data() + c * 2 * d;
      float* part_beta = part_gamma + d;
      for (int64_t r = rows * c / chunks; r < rows * (c + 1) / chunks; ++r) {
        const float mean = ps[2 * r], rstd = ps[2 * r + 1];
        const float* xr = px + r * d;
        const float* gr = pg + r * d;
        float sum_dxhat = 0.f, sum_dxhat_xhat = 0.f;
#pragma omp simd reduction(+ : sum_dxhat, sum_dxhat_xhat)
        for (int64_t j = 0; j < d; ++j) {
          const float xhat = (xr[j] - mean) * rstd;
          const float dxhat = gr[j] * pgm[j];
          sum_dxhat += dxhat;
          sum_dxhat_xhat += dxhat * xhat;
          part_gamma[j] += gr[j] * xhat;
          part_beta[j] += gr[j];
        }
        sum_dxhat /= d;
        sum_dxhat_xhat /= d;
        for (int64_t j = 0; j < d; ++j) {
          const float xhat = (xr[j] - mean) * rstd;
          pgx[r * d + j] = rstd * (gr[j] * pgm[j] - sum_dxhat - xhat * sum_dxhat_xhat);
        }
      }
    }
    float* pgg = ggamma.data<float>();
    float* pgb = gbeta.data<float>();
    for (int64_t c = 0; c < chunks; ++c) {
      for (int64_t j = 0; j < d; ++j) {
        pgg[j] += partial[c * 2 * d + j];
        pgb[j] += partial[c * 2 * d + d + j];
      }
    }
    return std::vector<Tensor>{gx, ggamma, gbeta};
  });
}

}  // namespace onemodel::ops
