// Depthwise convolution, channels last, forward and both gradients (the CPU loops are core/ops/conv.cc).
// Channels are the fastest-moving index, so neighbouring threads read neighbouring floats. Every sum runs in
// the CPU's tap order or in fixed slices: the results do not depend on scheduling.
#include <cuda_runtime.h>

#include "core/cuda/grid.h"
#include "core/cuda/kernels.h"

namespace onemodel::cuda {
namespace {

using Shape = CudaBackend::DepthwiseConvShape;

// A thread per output value: its taps in (row, column) order, as the CPU adds them.
__global__ void ForwardKernel(Shape s, const float* __restrict__ x, const float* __restrict__ weight,
                              float* __restrict__ out) {
  OM_GRID_STRIDE(i, s.b * s.oh * s.ow * s.c) {
    const int64_t c = i % s.c, ox = (i / s.c) % s.ow, oy = (i / (s.c * s.ow)) % s.oh, b = i / (s.c * s.ow * s.oh);
    float sum = 0.f;
    for (int64_t ki = 0; ki < s.kh; ++ki) {
      const int64_t iy = oy * s.stride_h - s.pad_top + ki * s.dilation_h;
      if (iy < 0 || iy >= s.h) continue;
      for (int64_t kj = 0; kj < s.kw; ++kj) {
        const int64_t ix = ox * s.stride_w - s.pad_left + kj * s.dilation_w;
        if (ix < 0 || ix >= s.w) continue;
        sum += x[((b * s.h + iy) * s.w + ix) * s.c + c] * weight[(ki * s.kw + kj) * s.c + c];
      }
    }
    out[i] = sum;
  }
}

// A thread per input value: every output that read it, through the tap that read it.
__global__ void BackwardInputKernel(Shape s, const float* __restrict__ weight, const float* __restrict__ grad_out,
                                    float* __restrict__ grad_x) {
  OM_GRID_STRIDE(i, s.b * s.h * s.w * s.c) {
    const int64_t c = i % s.c, ix = (i / s.c) % s.w, iy = (i / (s.c * s.w)) % s.h, b = i / (s.c * s.w * s.h);
    float sum = 0.f;
    for (int64_t ki = 0; ki < s.kh; ++ki) {
      const int64_t ty = iy + s.pad_top - ki * s.dilation_h;  // oy * stride_h
      if (ty < 0 || ty % s.stride_h != 0 || ty / s.stride_h >= s.oh) continue;
      for (int64_t kj = 0; kj < s.kw; ++kj) {
        const int64_t tx = ix + s.pad_left - kj * s.dilation_w;
        if (tx < 0 || tx % s.stride_w != 0 || tx / s.stride_w >= s.ow) continue;
        sum += grad_out[((b * s.oh + ty / s.stride_h) * s.ow + tx / s.stride_w) * s.c + c] *
               weight[(ki * s.kw + kj) * s.c + c];
      }
    }
    grad_x[i] = sum;
  }
}

// Weight gradient, first pass: block (tap, 32 channels, slice); thread (channel, lane y) sums every 8th output
// position of its slice, then the 8 lanes are added in order. partial[slice, tap, c].
constexpr int kLanes = 8;
__global__ void BackwardWeightPartialKernel(Shape s, const float* __restrict__ x, const float* __restrict__ grad_out,
                                            float* __restrict__ partial, int64_t per_slice) {
  __shared__ float lanes[kLanes][32];
  const int64_t tap = blockIdx.x, ki = tap / s.kw, kj = tap % s.kw;
  const int64_t c = blockIdx.y * 32 + threadIdx.x;
  const int64_t positions = s.b * s.oh * s.ow;
  const int64_t begin = blockIdx.z * per_slice, end = min(positions, begin + per_slice);
  float sum = 0.f;
  if (c < s.c) {
    for (int64_t p = begin + threadIdx.y; p < end; p += kLanes) {
      const int64_t ox = p % s.ow, oy = (p / s.ow) % s.oh, b = p / (s.ow * s.oh);
      const int64_t iy = oy * s.stride_h - s.pad_top + ki * s.dilation_h;
      const int64_t ix = ox * s.stride_w - s.pad_left + kj * s.dilation_w;
      if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
      sum += grad_out[p * s.c + c] * x[((b * s.h + iy) * s.w + ix) * s.c + c];
    }
  }
  lanes[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && c < s.c) {
    float total = 0.f;
    for (int l = 0; l < kLanes; ++l) total += lanes[l][threadIdx.x];
    partial[(blockIdx.z * s.kh * s.kw + tap) * s.c + c] = total;
  }
}

}  // namespace

void LaunchDepthwiseConvForward(const Shape& s, const float* x, const float* weight, float* out) {
  const int64_t n = s.b * s.oh * s.ow * s.c;
  if (n > 0) ForwardKernel<<<Blocks(n), kThreads>>>(s, x, weight, out);
}

void LaunchDepthwiseConvBackwardInput(const Shape& s, const float* weight, const float* grad_out, float* grad_x) {
  const int64_t n = s.b * s.h * s.w * s.c;
  if (n > 0) BackwardInputKernel<<<Blocks(n), kThreads>>>(s, weight, grad_out, grad_x);
}

int DepthwiseConvWeightChunks(const Shape& s) {
  // Enough blocks to fill the GPU (a few hundred), each slice at least 256 positions.
  const int64_t positions = s.b * s.oh * s.ow;
  const int64_t blocks_per_slice = s.kh * s.kw * ((s.c + 31) / 32);
  int64_t chunks = (512 + blocks_per_slice - 1) / blocks_per_slice;
  chunks = chunks < (positions + 255) / 256 ? chunks : (positions + 255) / 256;
  return static_cast<int>(chunks < 1 ? 1 : (chunks > 1024 ? 1024 : chunks));
}

void LaunchDepthwiseConvBackwardWeight(const Shape& s, const float* x, const float* grad_out, float* partial,
                                       int chunks, float* grad_weight) {
  const int64_t taps = s.kh * s.kw, n = taps * s.c, positions = s.b * s.oh * s.ow;
  if (n == 0) return;
  const int64_t per_slice = (positions + chunks - 1) / chunks;
  const dim3 grid(static_cast<unsigned>(taps), static_cast<unsigned>((s.c + 31) / 32), static_cast<unsigned>(chunks));
  BackwardWeightPartialKernel<<<grid, dim3(32, kLanes)>>>(s, x, grad_out, partial, per_slice);
  LaunchSumSlices(partial, chunks, n, 1.f, grad_weight);
}

}  // namespace onemodel::cuda
