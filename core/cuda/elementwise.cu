// Elementwise kernels: activations (math shared with the CPU in core/ops/unary_math.h), broadcast binary
// ops, scale/shift, in-place accumulation, the bf16 cast, the SGD and Adam updates, dropout masks, the pairwise
// distance's pointwise parts, and axis reductions.
#include <cuda_runtime.h>

#include <algorithm>
#include <type_traits>

#include "core/cuda/grid.h"
#include "core/cuda/kernels.h"
#include "core/philox.h"

namespace onemodel::cuda {
namespace {

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
__device__ __forceinline__ float ApplyBinary(float x, float y) {
  if constexpr (K == BinaryKind::kAdd) {
    return x + y;
  } else if constexpr (K == BinaryKind::kSub) {
    return x - y;
  } else if constexpr (K == BinaryKind::kMul) {
    return x * y;
  } else {
    return x / y;
  }
}

// Calls fn(std::integral_constant<BinaryKind, K>) for the runtime kind.
template <typename Fn>
void DispatchBinary(BinaryKind kind, Fn fn) {
  switch (kind) {
    case BinaryKind::kAdd: fn(std::integral_constant<BinaryKind, BinaryKind::kAdd>()); break;
    case BinaryKind::kSub: fn(std::integral_constant<BinaryKind, BinaryKind::kSub>()); break;
    case BinaryKind::kMul: fn(std::integral_constant<BinaryKind, BinaryKind::kMul>()); break;
    case BinaryKind::kDiv: fn(std::integral_constant<BinaryKind, BinaryKind::kDiv>()); break;
  }
}

template <BinaryKind K>
__global__ void BinaryKernel(CudaBackend::Operand a, CudaBackend::Operand b, float* __restrict__ out, int64_t n) {
  OM_GRID_STRIDE(i, n) { out[i] = ApplyBinary<K>(a.data[(i / a.div) % a.period], b.data[(i / b.div) % b.period]); }
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

using Strided = CudaBackend::Strided;

template <BinaryKind K>
__global__ void BroadcastBinaryKernel(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ out,
                                      Strided s, int64_t n) {
  OM_GRID_STRIDE(i, n) {
    int64_t rest = i, ia = 0, ib = 0;
    for (int d = s.ndim - 1; d >= 0; --d) {
      const int64_t c = rest % s.shape[d];
      rest /= s.shape[d];
      ia += c * s.a_stride[d];
      ib += c * s.b_stride[d];
    }
    out[i] = ApplyBinary<K>(a[ia], b[ib]);
  }
}

// A thread per output value: its kept coordinates fix a base offset in x, then the summed dims run row-major.
__global__ void SumOverBroadcastKernel(const float* __restrict__ x, float* __restrict__ out, Strided s, int64_t n_out) {
  OM_GRID_STRIDE(j, n_out) {
    int64_t rest = j, base = 0, span = 1;
    for (int d = s.ndim - 1; d >= 0; --d) {
      if (s.b_stride[d] == 0) {
        span *= s.shape[d];
        continue;
      }
      base += (rest % s.shape[d]) * s.a_stride[d];
      rest /= s.shape[d];
    }
    float total = 0.f;
    for (int64_t r = 0; r < span; ++r) {
      int64_t rr = r, offset = base;
      for (int d = s.ndim - 1; d >= 0; --d) {
        if (s.b_stride[d] != 0) continue;
        offset += (rr % s.shape[d]) * s.a_stride[d];
        rr /= s.shape[d];
      }
      total += x[offset];
    }
    out[j] = total;
  }
}

__global__ void DistanceFinishKernel(float* __restrict__ d, const float* __restrict__ xn, const float* __restrict__ wn,
                                     int64_t n, int64_t e) {
  OM_GRID_STRIDE(k, n * e) { d[k] = sqrtf(fmaxf(d[k] + xn[k / e] + wn[k % e], 0.f)); }
}

__global__ void DistanceGradScaleKernel(const float* __restrict__ g, const float* __restrict__ dist,
                                        float* __restrict__ s, int64_t count) {
  OM_GRID_STRIDE(k, count) { s[k] = dist[k] > 0.f ? g[k] / dist[k] : 0.f; }
}

__global__ void AdamUpdateKernel(float* __restrict__ w, const float* __restrict__ g, float* __restrict__ m,
                                 float* __restrict__ v, int64_t n, CudaBackend::AdamScalars s) {
  OM_GRID_STRIDE(j, n) {
    const float gj = g[j] + s.l2 * w[j];
    m[j] = s.beta1 * m[j] + (1.f - s.beta1) * gj;
    v[j] = s.beta2 * v[j] + (1.f - s.beta2) * gj * gj;
    w[j] = s.decay * w[j] - s.step_size * m[j] / (sqrtf(v[j]) * s.inv_sqrt_bias2 + s.eps);
  }
}

__global__ void DropoutMaskKernel(float* __restrict__ out, int64_t n, uint64_t seed, uint32_t step, uint16_t layer,
                                  uint16_t purpose, uint64_t offset, float p, float keep_scale) {
  OM_GRID_STRIDE(i, n) { out[i] = StreamUniform(seed, step, layer, purpose, offset + i) >= p ? keep_scale : 0.f; }
}

__global__ void ToBF16Kernel(const float* __restrict__ x, uint16_t* __restrict__ out, int64_t n) {
  OM_GRID_STRIDE(i, n) { out[i] = RoundToBF16(x[i]); }
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

// Few outputs, long sums (a full sum, a bias gradient): blocks (output, slice), each a strided partial sum per
// thread over its slice of the n values, then a fixed-order tree in shared memory; partial[slice * outputs + k].
__global__ void ReduceAxisBlockKernel(const float* __restrict__ x, float* __restrict__ partial, int64_t n,
                                      int64_t inner, int64_t per_slice) {
  __shared__ float scratch[kThreads];
  const int64_t k = blockIdx.x, o = k / inner, i = k % inner;
  const int64_t begin = blockIdx.y * per_slice, end = min(n, begin + per_slice);
  float acc = 0.f;
  for (int64_t j = begin + threadIdx.x; j < end; j += kThreads) acc += x[(o * n + j) * inner + i];
  scratch[threadIdx.x] = acc;
  __syncthreads();
  for (int stride = kThreads / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) scratch[threadIdx.x] += scratch[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.y * gridDim.x + k] = scratch[0];
}

__global__ void SumSlicesKernel(const float* __restrict__ partial, int64_t slices, int64_t outputs, float scale,
                                float* __restrict__ out) {
  OM_GRID_STRIDE(k, outputs) {
    float total = 0.f;
    for (int64_t z = 0; z < slices; ++z) total += partial[z * outputs + k];
    out[k] = total * scale;
  }
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
  DispatchBinary(kind, [&](auto k) { BinaryKernel<decltype(k)::value><<<Blocks(n), kThreads>>>(a, b, out, n); });
}

void LaunchBroadcastBinary(BinaryKind kind, const float* a, const float* b, float* out, const Strided& s) {
  int64_t n = 1;
  for (int d = 0; d < s.ndim; ++d) n *= s.shape[d];
  if (n == 0) return;
  DispatchBinary(kind, [&](auto k) {
    BroadcastBinaryKernel<decltype(k)::value><<<Blocks(n), kThreads>>>(a, b, out, s, n);
  });
}

void LaunchSumOverBroadcast(const float* x, float* out, const Strided& s) {
  int64_t n_out = 1;
  for (int d = 0; d < s.ndim; ++d) n_out *= s.b_stride[d] == 0 ? 1 : s.shape[d];
  if (n_out > 0) SumOverBroadcastKernel<<<Blocks(n_out), kThreads>>>(x, out, s, n_out);
}

void LaunchScaleShift(const float* x, float* out, int64_t n, float scale, float shift) {
  ScaleShiftKernel<<<Blocks(n), kThreads>>>(x, out, n, scale, shift);
}

void LaunchAddInPlace(float* dst, const float* src, int64_t n) { AddInPlaceKernel<<<Blocks(n), kThreads>>>(dst, src, n); }

void LaunchToBF16(const float* x, uint16_t* out, int64_t n) { ToBF16Kernel<<<Blocks(n), kThreads>>>(x, out, n); }

void LaunchDistanceFinish(float* d, const float* xn, const float* wn, int64_t n, int64_t e) {
  if (n * e > 0) DistanceFinishKernel<<<Blocks(n * e), kThreads>>>(d, xn, wn, n, e);
}

void LaunchDistanceGradScale(const float* g, const float* dist, float* s, int64_t count) {
  if (count > 0) DistanceGradScaleKernel<<<Blocks(count), kThreads>>>(g, dist, s, count);
}

void LaunchAdamUpdate(float* w, const float* g, float* m, float* v, int64_t n, const CudaBackend::AdamScalars& s) {
  AdamUpdateKernel<<<Blocks(n), kThreads>>>(w, g, m, v, n, s);
}

void LaunchDropoutMask(float* out, int64_t n, uint64_t seed, uint32_t step, uint16_t layer, uint16_t purpose,
                       uint64_t offset, float p, float keep_scale) {
  DropoutMaskKernel<<<Blocks(n), kThreads>>>(out, n, seed, step, layer, purpose, offset, p, keep_scale);
}

void LaunchSgdUpdate(float* w, const float* g, int64_t n, float lr, float weight_decay) {
  SgdUpdateKernel<<<Blocks(n), kThreads>>>(w, g, n, lr, weight_decay);
}

int ReduceAxisSlices(int64_t outer, int64_t n, int64_t inner) {
  // A thread per output keeps the GPU busy only with many outputs (0: that kernel); otherwise blocks per output,
  // with enough slices of at least 4096 values each to give a few hundred blocks.
  const int64_t outputs = outer * inner;
  if (outputs >= 8192 || n < 64) return 0;
  const int64_t slices = std::min((512 + outputs - 1) / outputs, (n + 4095) / 4096);
  return static_cast<int>(std::max<int64_t>(slices, 1));
}

void LaunchReduceAxis(const float* x, float* out, int64_t outer, int64_t n, int64_t inner, float scale, float* partial,
                      int slices) {
  if (slices == 0) {
    ReduceAxisKernel<<<Blocks(outer * inner), kThreads>>>(x, out, outer, n, inner, scale);
    return;
  }
  const int64_t outputs = outer * inner;
  ReduceAxisBlockKernel<<<dim3(static_cast<unsigned>(outputs), static_cast<unsigned>(slices)), kThreads>>>(
      x, partial, n, inner, (n + slices - 1) / slices);
  LaunchSumSlices(partial, slices, outputs, scale, out);
}

void LaunchSumSlices(const float* partial, int64_t slices, int64_t outputs, float scale, float* out) {
  if (outputs > 0) SumSlicesKernel<<<Blocks(outputs), kThreads>>>(partial, slices, outputs, scale, out);
}

void LaunchExpandAxis(const float* g, float* out, int64_t outer, int64_t n, int64_t inner, float scale) {
  ExpandAxisKernel<<<Blocks(outer * n * inner), kThreads>>>(g, out, outer, n, inner, scale);
}

}  // namespace onemodel::cuda
