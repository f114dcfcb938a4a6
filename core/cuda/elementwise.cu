// Elementwise kernels: activations (math shared with the CPU in core/ops/unary_math.h), broadcast binary
// ops, scale/shift, in-place accumulation, the SGD update, and axis reductions.
#include <cuda_runtime.h>

#include "core/cuda/kernels.h"

namespace onemodel::cuda {
namespace {

constexpr int kThreads = 256;

int Blocks(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<int>(blocks < 65535 ? (blocks > 0 ? blocks : 1) : 65535);  // grid-stride beyond that
}

#define OM_GRID_STRIDE(i, n)                                                             \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

template <UnaryKind K>
__global__ void UnaryForwardKernel(const float* __restrict__ x, float* __restrict__ y, int64_t n) {
  OM_GRID_STRIDE(i, n) { y[i] = UnaryForward<K>(x[i]); }
}

template <UnaryKind K>
__global__ void UnaryBackwardKernel(const float* __restrict__ x, const float* __restrict__ y,
                                    const float* __restrict__ gy, float* __restrict__ gx, int64_t n) {
  OM_GRID_STRIDE(i, n) { gx[i] = gy[i] * UnaryDerivative<K>(x[i], y[i]); }
}

template <BinaryKind K>
__global__ void BinaryKernel(CudaBackend::Operand a, CudaBackend::Operand b, float* __restrict__ out, int64_t n) {
  OM_GRID_STRIDE(i, n) {
    const float x = a.data[(i / a.div) % a.period], y = b.data[(i / b.div) % b.period];
    if constexpr (K == BinaryKind::kAdd) out[i] = x + y;
    if constexpr (K == BinaryKind::kSub) out[i] = x - y;
    if constexpr (K == BinaryKind::kMul) out[i] = x * y;
    if constexpr (K == BinaryKind::kDiv) out[i] = x / y;
  }
}

__global__ void ScaleShiftKernel(const float* __restrict__ x, float* __restrict__ out, int64_t n, float scale,
                                 float shift) {
  OM_GRID_STRIDE(i, n) { out[i] = x[i] * scale + shift; }
}

__global__ void AddInPlaceKernel(float* __restrict__ dst, const float* __restrict__ src, int64_t n) {
  OM_GRID_STRIDE(i, n) { dst[i] += src[i]; }
}

__global__ void SgdUpdateKernel(float* __restrict__ w, const float* __restrict__ g, int64_t n, float lr, float wd) {
  OM_GRID_STRIDE(i, n) { w[i] -= lr * (g[i] + wd * w[i]); }
}

// One thread per kept element, summing its n values in order (deterministic, same order as the CPU).
__global__ void ReduceAxisKernel(const float* __restrict__ x, float* __restrict__ out, int64_t outer, int64_t n,
                                 int64_t inner, float scale) {
  OM_GRID_STRIDE(k, outer * inner) {
    const int64_t o = k / inner, i = k % inner;
    float acc = 0.f;
    for (int64_t j = 0; j < n; ++j) acc += x[(o * n + j) * inner + i];
    out[k] = acc * scale;
  }
}

// Few outputs, long sums (a full sum, a bias gradient): one block per output, a strided partial sum per
// thread, then a fixed-order tree in shared memory.
__global__ void ReduceAxisBlockKernel(const float* __restrict__ x, float* __restrict__ out, int64_t n, int64_t inner,
                                      float scale) {
  __shared__ float scratch[kThreads];
  const int64_t k = blockIdx.x, o = k / inner, i = k % inner;
  float acc = 0.f;
  for (int64_t j = threadIdx.x; j < n; j += kThreads) acc += x[(o * n + j) * inner + i];
  scratch[threadIdx.x] = acc;
  __syncthreads();
  for (int stride = kThreads / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) scratch[threadIdx.x] += scratch[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[k] = scratch[0] * scale;
}

__global__ void ExpandAxisKernel(const float* __restrict__ g, float* __restrict__ out, int64_t outer, int64_t n,
                                 int64_t inner, float scale) {
  OM_GRID_STRIDE(k, outer * n * inner) {
    const int64_t o = k / (n * inner), i = k % inner;
    out[k] = scale * g[o * inner + i];
  }
}

}  // namespace

void LaunchUnaryForward(UnaryKind kind, const float* x, float* y, int64_t n) {
  DispatchUnary(kind, [&](auto k) { UnaryForwardKernel<decltype(k)::value><<<Blocks(n), kThreads>>>(x, y, n); });
}

void LaunchUnaryBackward(UnaryKind kind, const float* x, const float* y, const float* grad_y, float* grad_x,
                         int64_t n) {
  DispatchUnary(kind, [&](auto k) {
    UnaryBackwardKernel<decltype(k)::value><<<Blocks(n), kThreads>>>(x, y, grad_y, grad_x, n);
  });
}

void LaunchBinary(BinaryKind kind, CudaBackend::Operand a, CudaBackend::Operand b, float* out, int64_t n) {
  switch (kind) {
    case BinaryKind::kAdd: BinaryKernel<BinaryKind::kAdd><<<Blocks(n), kThreads>>>(a, b, out, n); break;
    case BinaryKind::kSub: BinaryKernel<BinaryKind::kSub><<<Blocks(n), kThreads>>>(a, b, out, n); break;
    case BinaryKind::kMul: BinaryKernel<BinaryKind::kMul><<<Blocks(n), kThreads>>>(a, b, out, n); break;
    case BinaryKind::kDiv: BinaryKernel<BinaryKind::kDiv><<<Blocks(n), kThreads>>>(a, b, out, n); break;
  }
}

void LaunchScaleShift(const float* x, float* out, int64_t n, float scale, float shift) {
  ScaleShiftKernel<<<Blocks(n), kThreads>>>(x, out, n, scale, shift);
}

void LaunchAddInPlace(float* dst, const float* src, int64_t n) { AddInPlaceKernel<<<Blocks(n), kThreads>>>(dst, src, n); }

void LaunchSgdUpdate(float* w, const float* g, int64_t n, float lr, float weight_decay) {
  SgdUpdateKernel<<<Blocks(n), kThreads>>>(w, g, n, lr, weight_decay);
}

void LaunchReduceAxis(const float* x, float* out, int64_t outer, int64_t n, int64_t inner, float scale) {
  // A thread per output keeps the GPU busy only with many outputs; otherwise a block per output.
  if (outer * inner < 8192 && n >= 64) {
    ReduceAxisBlockKernel<<<outer * inner, kThreads>>>(x, out, n, inner, scale);
  } else {
    ReduceAxisKernel<<<Blocks(outer * inner), kThreads>>>(x, out, outer, n, inner, scale);
  }
}

void LaunchExpandAxis(const float* g, float* out, int64_t outer, int64_t n, int64_t inner, float scale) {
  ExpandAxisKernel<<<Blocks(outer * n * inner), kThreads>>>(g, out, outer, n, inner, scale);
}

}  // namespace onemodel::cuda
