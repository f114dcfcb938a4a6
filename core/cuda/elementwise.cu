// Elementwise activation kernels. The math is core/ops/unary_math.h, shared with the CPU loops.
#include <cuda_runtime.h>

#include "core/cuda/kernels.h"

namespace onemodel::cuda {
namespace {

constexpr int kThreads = 256;

template <UnaryKind K>
__global__ void UnaryForwardKernel(const float* __restrict__ x, float* __restrict__ y, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    y[i] = UnaryForward<K>(x[i]);
  }
}

template <UnaryKind K>
__global__ void UnaryBackwardKernel(const float* __restrict__ x, const float* __restrict__ y,
                                    const float* __restrict__ gy, float* __restrict__ gx, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    gx[i] = gy[i] * UnaryDerivative<K>(x[i], y[i]);
  }
}

int Blocks(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<int>(blocks < 65535 ? (blocks > 0 ? blocks : 1) : 65535);  // grid-stride beyond that
}

}  // namespace

void LaunchUnaryForward(UnaryKind kind, const float* x, float* y, int64_t n) {
  DispatchUnary(kind, [&](auto k) {
    UnaryForwardKernel<decltype(k)::value><<<Blocks(n), kThreads>>>(x, y, n);
  });
}

void LaunchUnaryBackward(UnaryKind kind, const float* x, const float* y, const float* grad_y, float* grad_x,
                         int64_t n) {
  DispatchUnary(kind, [&](auto k) {
    UnaryBackwardKernel<decltype(k)::value><<<Blocks(n), kThreads>>>(x, y, grad_y, grad_x, n);
  });
}

}  // namespace onemodel::cuda
