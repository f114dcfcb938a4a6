// Row kernels: softmax / log-softmax, layer norm, cross-entropy. One block per row; block-wide reductions
// through shared memory (fixed order, so results are deterministic).
#include <cuda_runtime.h>

#include <cfloat>

#include "core/cuda/grid.h"
#include "core/cuda/kernels.h"

namespace onemodel::cuda {
namespace {

// Block-wide sum (or max) of one value per thread; every thread gets the result.
template <bool kMax>
__device__ float BlockReduce(float v) {
  __shared__ float scratch[kThreads];
  scratch[threadIdx.x] = v;
  __syncthreads();
  for (int stride = kThreads / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) {
      const float other = scratch[threadIdx.x + stride];
      scratch[threadIdx.x] = kMax ? fmaxf(scratch[threadIdx.x], other) : scratch[threadIdx.x] + other;
    }
    __syncthreads();
  }
  const float result = scratch[0];
  __syncthreads();
  return result;
}

// log-sum-exp of a row, max-subtracted.
__device__ float RowLogSumExp(const float* row, int64_t n) {
  float m = -FLT_MAX;
  for (int64_t j = threadIdx.x; j < n; j += kThreads) m = fmaxf(m, row[j]);
  m = BlockReduce<true>(m);
  float s = 0.f;
  for (int64_t j = threadIdx.x; j < n; j += kThreads) s += ExpF(row[j] - m);
  return m + logf(BlockReduce<false>(s));
}

__global__ void SoftmaxForwardKernel(const float* __restrict__ x, float* __restrict__ y, int64_t n, bool log) {
  const float* row = x + blockIdx.x * n;
  float* out = y + blockIdx.x * n;
  const float lse = RowLogSumExp(row, n);
  for (int64_t j = threadIdx.x; j < n; j += kThreads) out[j] = log ? row[j] - lse : ExpF(row[j] - lse);
}

__global__ void SoftmaxBackwardKernel(const float* __restrict__ y, const float* __restrict__ gy,
                                      float* __restrict__ gx, int64_t n, bool log) {
  const int64_t base = blockIdx.x * n;
  float s = 0.f;
  for (int64_t j = threadIdx.x; j < n; j += kThreads) s += log ? gy[base + j] : gy[base + j] * y[base + j];
  s = BlockReduce<false>(s);
  for (int64_t j = threadIdx.x; j < n; j += kThreads) {
    gx[base + j] = log ? gy[base + j] - ExpF(y[base + j]) * s : y[base + j] * (gy[base + j] - s);
  }
}

__global__ void LayerNormForwardKernel(const float* __restrict__ x, const float* __restrict__ gamma,
                                       const float* __restrict__ beta, float* __restrict__ y,
                                       float* __restrict__ stats, int64_t d, float eps) {
  const float* row = x + blockIdx.x * d;
  float s = 0.f;
  for (int64_t j = threadIdx.x; j < d; j += kThreads) s += row[j];
  const float mean = BlockReduce<false>(s) / d;
  float v = 0.f;
  for (int64_t j = threadIdx.x; j < d; j += kThreads) v += (row[j] - mean) * (row[j] - mean);
  const float rstd = rsqrtf(BlockReduce<false>(v) / d + eps);
  for (int64_t j = threadIdx.x; j < d; j += kThreads) y[blockIdx.x * d + j] = (row[j] - mean) * rstd * gamma[j] + beta[j];
  if (threadIdx.x == 0) {
    stats[2 * blockIdx.x] = mean;
    stats[2 * blockIdx.x + 1] = rstd;
  }
}

__global__ void LayerNormBackwardRowsKernel(const float* __restrict__ x, const float* __restrict__ gamma,
                                            const float* __restrict__ stats, const float* __restrict__ gy,
                                            float* __restrict__ gx, int64_t d) {
  const int64_t base = blockIdx.x * d;
  const float mean = stats[2 * blockIdx.x], rstd = stats[2 * blockIdx.x + 1];
  float a = 0.f, b = 0.f;
  for (int64_t j = threadIdx.x; j < d; j += kThreads) {
    const float dxhat = gy[base + j] * gamma[j];
    a += dxhat;
    b += dxhat * (x[base + j] - mean) * rstd;
  }
  a = BlockReduce<false>(a) / d;
  b = BlockReduce<false>(b) / d;
  for (int64_t j = threadIdx.x; j < d; j += kThreads) {
    const float xhat = (x[base + j] - mean) * rstd;
    gx[base + j] = rstd * (gy[base + j] * gamma[j] - a - xhat * b);
  }
}

// Parameter gradients: one thread per column, rows summed in order.
__global__ void LayerNormBackwardParamsKernel(const float* __restrict__ x, const float* __restrict__ stats,
                                              const float* __restrict__ gy, float* __restrict__ ggamma,
                                              float* __restrict__ gbeta, int64_t rows, int64_t d) {
  const int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (j >= d) return;
  float sg = 0.f, sb = 0.f;
  for (int64_t r = 0; r < rows; ++r) {
    const float g = gy[r * d + j];
    sg += g * (x[r * d + j] - stats[2 * r]) * stats[2 * r + 1];
    sb += g;
  }
  ggamma[j] = sg;
  gbeta[j] = sb;
}

__global__ void CrossEntropyForwardKernel(const float* __restrict__ logits, const int64_t* __restrict__ targets,
                                          float* __restrict__ log_probs, float* __restrict__ loss, int64_t v,
                                          float smoothing, int64_t ignore_index) {
  const int64_t r = blockIdx.x;
  if (targets[r] == ignore_index) {
    if (threadIdx.x == 0) loss[r] = 0.f;
    return;
  }
  const float* row = logits + r * v;
  const float lse = RowLogSumExp(row, v);
  float s = 0.f;
  for (int64_t j = threadIdx.x; j < v; j += kThreads) {
    const float lp = row[j] - lse;
    log_probs[r * v + j] = lp;
    s += lp;
  }
  s = BlockReduce<false>(s);
  if (threadIdx.x == 0) loss[r] = -(1.f - smoothing) * (row[targets[r]] - lse) - smoothing * s / v;
}

__global__ void CrossEntropyBackwardKernel(const float* __restrict__ log_probs, const int64_t* __restrict__ targets,
                                           float* __restrict__ grad, int64_t v, float smoothing, int64_t ignore_index,
                                           float upstream) {
  const int64_t r = blockIdx.x;
  const bool ignored = targets[r] == ignore_index;
  for (int64_t j = threadIdx.x; j < v; j += kThreads) {
    float g = ignored ? 0.f : upstream * (ExpF(log_probs[r * v + j]) - smoothing / v);
    if (!ignored && j == targets[r]) g -= upstream * (1.f - smoothing);
    grad[r * v + j] = g;
  }
}

}  // namespace

void LaunchSoftmaxForward(const float* x, float* y, int64_t rows, int64_t n, bool log) {
  if (rows > 0) SoftmaxForwardKernel<<<rows, kThreads>>>(x, y, n, log);
}

void LaunchSoftmaxBackward(const float* y, const float* grad_y, float* grad_x, int64_t rows, int64_t n, bool log) {
  if (rows > 0) SoftmaxBackwardKernel<<<rows, kThreads>>>(y, grad_y, grad_x, n, log);
}

void LaunchLayerNormForward(const float* x, const float* gamma, const float* beta, float* y, float* stats,
                            int64_t rows, int64_t d, float eps) {
  if (rows > 0) LayerNormForwardKernel<<<rows, kThreads>>>(x, gamma, beta, y, stats, d, eps);
}

void LaunchLayerNormBackward(const float* x, const float* gamma, const float* stats, const float* grad_y,
                             float* grad_x, float* grad_gamma, float* grad_beta, int64_t rows, int64_t d) {
  if (rows == 0) return;
  LayerNormBackwardRowsKernel<<<rows, kThreads>>>(x, gamma, stats, grad_y, grad_x, d);
  LayerNormBackwardParamsKernel<<<(d + kThreads - 1) / kThreads, kThreads>>>(x, stats, grad_y, grad_gamma, grad_beta,
                                                                             rows, d);
}

void LaunchCrossEntropyForward(const float* logits, const int64_t* targets, float* log_probs, float* loss,
                               int64_t rows, int64_t v, float smoothing, int64_t ignore_index) {
  if (rows > 0) CrossEntropyForwardKernel<<<rows, kThreads>>>(logits, targets, log_probs, loss, v, smoothing, ignore_index);
}

void LaunchCrossEntropyBackward(const float* log_probs, const int64_t* targets, float* grad, int64_t rows, int64_t v,
                                float smoothing, int64_t ignore_index, float upstream) {
  if (rows > 0) {
    CrossEntropyBackwardKernel<<<rows, kThreads>>>(log_probs, targets, grad, v, smoothing, ignore_index, upstream);
  }
}

}  // namespace onemodel::cuda
