// Max and average pooling (channels last) and the max over an axis, forward and backward (the CPU loops are
// core/ops/pool.cc and core/ops/reduce.cc). A thread per output value scans its window in the CPU's order, so a max
// keeps the same first winner; a thread per input value adds the gradients of the windows that read it in the CPU's
// (ascending output) order: no atomics, the same sums.
#include <cuda_runtime.h>

#include "core/cuda/grid.h"
#include "core/cuda/kernels.h"

namespace onemodel::cuda {
namespace {

using Shape = CudaBackend::PoolShape;

// The output rows (or columns) whose windows hold input row `in`: [*first, *last], clipped to the output.
__device__ void CoveringWindows(int64_t in, int64_t pad, int64_t kernel, int64_t stride, int64_t outputs,
                                int64_t* first, int64_t* last) {
  const int64_t lo = in + pad - kernel + 1;  // the first window starts at or after it
  *first = lo <= 0 ? 0 : (lo + stride - 1) / stride;
  const int64_t hi = (in + pad) / stride;
  *last = hi < outputs ? hi : outputs - 1;
}

// The taps of output (oy, ox)'s window inside the input: an average's divisor (as a float, as the CPU counts it).
__device__ float InBoundsTaps(const Shape& s, int64_t oy, int64_t ox) {
  const int64_t y0 = oy * s.stride_h - s.pad_h, x0 = ox * s.stride_w - s.pad_w;
  const int64_t rows = min(y0 + s.kh, s.h) - max(y0, int64_t{0});
  const int64_t cols = min(x0 + s.kw, s.w) - max(x0, int64_t{0});
  return rows > 0 && cols > 0 ? static_cast<float>(rows * cols) : 0.f;
}

__global__ void PoolForwardKernel(Shape s, bool max, const float* __restrict__ x, float* __restrict__ out,
                                  int64_t* __restrict__ argmax) {
  OM_GRID_STRIDE(i, s.b * s.oh * s.ow * s.c) {
    const int64_t c = i % s.c, ox = (i / s.c) % s.ow, oy = (i / (s.c * s.ow)) % s.oh, b = i / (s.c * s.ow * s.oh);
    float best = -INFINITY, sum = 0.f;
    int64_t best_at = -1;
    const float inv = 1.f / InBoundsTaps(s, oy, ox);
    for (int64_t ki = 0; ki < s.kh; ++ki) {
      const int64_t iy = oy * s.stride_h - s.pad_h + ki;
      if (iy < 0 || iy >= s.h) continue;
      for (int64_t kj = 0; kj < s.kw; ++kj) {
        const int64_t ix = ox * s.stride_w - s.pad_w + kj;
        if (ix < 0 || ix >= s.w) continue;
        const int64_t at = ((b * s.h + iy) * s.w + ix) * s.c + c;
        if (x[at] > best) best = x[at], best_at = at;
        sum += x[at] * inv;
      }
    }
    out[i] = max ? best : sum;
    if (max) argmax[i] = best_at;
  }
}

__global__ void PoolBackwardKernel(Shape s, bool max, const int64_t* __restrict__ argmax,
                                   const float* __restrict__ grad_out, float* __restrict__ grad_x) {
  OM_GRID_STRIDE(i, s.b * s.h * s.w * s.c) {
    const int64_t c = i % s.c, ix = (i / s.c) % s.w, iy = (i / (s.c * s.w)) % s.h, b = i / (s.c * s.w * s.h);
    int64_t oy0, oy1, ox0, ox1;
    CoveringWindows(iy, s.pad_h, s.kh, s.stride_h, s.oh, &oy0, &oy1);
    CoveringWindows(ix, s.pad_w, s.kw, s.stride_w, s.ow, &ox0, &ox1);
    float sum = 0.f;
    for (int64_t oy = oy0; oy <= oy1; ++oy) {
      for (int64_t ox = ox0; ox <= ox1; ++ox) {
        const int64_t o = ((b * s.oh + oy) * s.ow + ox) * s.c + c;
        if (max) {
          if (argmax[o] == i) sum += grad_out[o];
          continue;
        }
        sum += grad_out[o] * (1.f / InBoundsTaps(s, oy, ox));
      }
    }
    grad_x[i] = sum;
  }
}

__global__ void MaxAxisKernel(const float* __restrict__ x, float* __restrict__ out, int64_t* __restrict__ argmax,
                              int64_t outer, int64_t n, int64_t inner) {
  OM_GRID_STRIDE(k, outer * inner) {
    const int64_t o = k / inner, i = k % inner;
    float best = -INFINITY;
    int64_t best_j = 0;
    for (int64_t j = 0; j < n; ++j) {
      const float v = x[(o * n + j) * inner + i];
      if (v > best) best = v, best_j = j;
    }
    out[k] = best;
    argmax[k] = best_j;
  }
}

__global__ void MaxAxisBackwardKernel(const float* __restrict__ g, const int64_t* __restrict__ argmax,
                                      float* __restrict__ grad_x, int64_t outer, int64_t n, int64_t inner) {
  OM_GRID_STRIDE(k, outer * n * inner) {
    const int64_t i = k % inner, j = (k / inner) % n, o = k / (inner * n);
    grad_x[k] = argmax[o * inner + i] == j ? g[o * inner + i] : 0.f;
  }
}

}  // namespace

void LaunchPoolForward(const Shape& s, bool max, const float* x, float* out, int64_t* argmax) {
  const int64_t n = s.b * s.oh * s.ow * s.c;
  if (n > 0) PoolForwardKernel<<<Blocks(n), kThreads>>>(s, max, x, out, argmax);
}

void LaunchPoolBackward(const Shape& s, bool max, const int64_t* argmax, const float* grad_out, float* grad_x) {
  const int64_t n = s.b * s.h * s.w * s.c;
  if (n > 0) PoolBackwardKernel<<<Blocks(n), kThreads>>>(s, max, argmax, grad_out, grad_x);
}

void LaunchMaxAxis(const float* x, float* out, int64_t* argmax, int64_t outer, int64_t n, int64_t inner) {
  if (outer * inner > 0) MaxAxisKernel<<<Blocks(outer * inner), kThreads>>>(x, out, argmax, outer, n, inner);
}

void LaunchMaxAxisBackward(const float* g, const int64_t* argmax, float* grad_x, int64_t outer, int64_t n,
                           int64_t inner) {
  const int64_t total = outer * n * inner;
  if (total > 0) MaxAxisBackwardKernel<<<Blocks(total), kThreads>>>(g, argmax, grad_x, outer, n, inner);
}

}  // namespace onemodel::cuda
