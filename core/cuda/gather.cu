// Index kernels: row gathers and (deterministic, CSR-ordered) scatters for the MoE dispatcher, per-row
// top-k and gathers for routers, transposes, and counter-based random numbers.
#include <cuda_runtime.h>

#include <cfloat>

#include "core/cuda/grid.h"
#include "core/cuda/kernels.h"
#include "core/philox.h"

namespace onemodel::cuda {
namespace {

__global__ void GatherRowsKernel(const float* __restrict__ x, const int64_t* __restrict__ index,
                                 float* __restrict__ out, int64_t m, int64_t width) {
  OM_GRID_STRIDE(k, m * width) { out[k] = x[index[k / width] * width + k % width]; }
}

// One thread per output element; its sources are summed in CSR (ascending source) order.
__global__ void ScatterRowsKernel(const float* __restrict__ src, const float* __restrict__ weight,
                                  const int64_t* __restrict__ start, const int64_t* __restrict__ source,
                                  float* __restrict__ out, int64_t rows, int64_t width) {
  OM_GRID_STRIDE(k, rows * width) {
    const int64_t r = k / width, c = k % width;
    float acc = 0.f;
    for (int64_t s = start[r]; s < start[r + 1]; ++s) {
      const int64_t i = source[s];
      acc += (weight ? weight[i] : 1.f) * src[i * width + c];
    }
    out[k] = acc;
  }
}

__global__ void GatherRowsScaledKernel(const float* __restrict__ g, const int64_t* __restrict__ index,
                                       const float* __restrict__ weight, float* __restrict__ out, int64_t m,
                                       int64_t width) {
  OM_GRID_STRIDE(k, m * width) {
    const int64_t i = k / width;
    out[k] = weight[i] * g[index[i] * width + k % width];
  }
}

// One block per row: a block-wide dot product.
__global__ void GatherRowDotsKernel(const float* __restrict__ g, const int64_t* __restrict__ index,
                                    const float* __restrict__ src, float* __restrict__ dots, int64_t width) {
  __shared__ float scratch[kThreads];
  const int64_t i = blockIdx.x;
  float s = 0.f;
  for (int64_t c = threadIdx.x; c < width; c += kThreads) s += g[index[i] * width + c] * src[i * width + c];
  scratch[threadIdx.x] = s;
  __syncthreads();
  for (int stride = kThreads / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) scratch[threadIdx.x] += scratch[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) dots[i] = scratch[0];
}

// One thread per row: k passes of "largest value not yet taken" (rows are router-sized: tens of experts).
__global__ void TopKKernel(const float* __restrict__ x, float* __restrict__ values, int64_t* __restrict__ indices,
                           int64_t rows, int64_t n, int64_t k) {
  OM_GRID_STRIDE(r, rows) {
    const float* row = x + r * n;
    float prev_v = FLT_MAX;
    int64_t prev_i = -1;
    for (int64_t j = 0; j < k; ++j) {
      float best_v = -FLT_MAX;
      int64_t best_i = -1;
      for (int64_t c = 0; c < n; ++c) {
        const float v = row[c];
        // Strictly after the previous pick in (value desc, index asc) order.
        const bool after_prev = v < prev_v || (v == prev_v && c > prev_i);
        if (after_prev && (best_i < 0 || v > best_v)) best_v = v, best_i = c;
      }
      values[r * k + j] = best_v;
      indices[r * k + j] = best_i;
      prev_v = best_v;
      prev_i = best_i;
    }
  }
}

__global__ void GatherLastDimKernel(const float* __restrict__ x, const int64_t* __restrict__ index,
                                    float* __restrict__ out, int64_t rows, int64_t n, int64_t k) {
  OM_GRID_STRIDE(e, rows * k) { out[e] = x[(e / k) * n + index[e]]; }
}

__global__ void GatherLastDimBackwardKernel(const float* __restrict__ g, const int64_t* __restrict__ index,
                                            float* __restrict__ gx, int64_t rows, int64_t n, int64_t k) {
  OM_GRID_STRIDE(r, rows) {
    for (int64_t c = 0; c < n; ++c) gx[r * n + c] = 0.f;
    for (int64_t j = 0; j < k; ++j) gx[r * n + index[r * k + j]] += g[r * k + j];
  }
}

__global__ void TransposeKernel(const float* __restrict__ x, float* __restrict__ out, int64_t batch, int64_t r,
                                int64_t c) {
  OM_GRID_STRIDE(e, batch * r * c) {
    const int64_t b = e / (r * c), i = (e / c) % r, j = e % c;
    out[b * r * c + j * r + i] = x[e];
  }
}

__global__ void RandomKernel(float* __restrict__ out, int64_t n, uint64_t seed, uint32_t step, uint16_t layer,
                             uint16_t purpose, uint64_t offset, bool normal, float shift, float scale) {
  OM_GRID_STRIDE(i, n) {
    const float u = normal ? StreamNormal(seed, step, layer, purpose, offset + i)
                           : StreamUniform(seed, step, layer, purpose, offset + i);
    out[i] = shift + scale * u;
  }
}

}  // namespace

void LaunchGatherRows(const float* x, const int64_t* index, float* out, int64_t m, int64_t width) {
  if (m * width > 0) GatherRowsKernel<<<Blocks(m * width), kThreads>>>(x, index, out, m, width);
}

void LaunchScatterRows(const float* src, const float* weight, const int64_t* start, const int64_t* source, float* out,
                       int64_t rows, int64_t width) {
  if (rows * width > 0) ScatterRowsKernel<<<Blocks(rows * width), kThreads>>>(src, weight, start, source, out, rows, width);
}

void LaunchGatherRowsScaled(const float* g, const int64_t* index, const float* weight, float* out, int64_t m,
                            int64_t width) {
  if (m * width > 0) GatherRowsScaledKernel<<<Blocks(m * width), kThreads>>>(g, index, weight, out, m, width);
}

void LaunchGatherRowDots(const float* g, const int64_t* index, const float* src, float* dots, int64_t m, int64_t width) {
  if (m > 0) GatherRowDotsKernel<<<m, kThreads>>>(g, index, src, dots, width);
}

void LaunchTopK(const float* x, float* values, int64_t* indices, int64_t rows, int64_t n, int64_t k) {
  if (rows > 0) TopKKernel<<<Blocks(rows), kThreads>>>(x, values, indices, rows, n, k);
}

void LaunchGatherLastDim(const float* x, const int64_t* index, float* out, int64_t rows, int64_t n, int64_t k) {
  if (rows * k > 0) GatherLastDimKernel<<<Blocks(rows * k), kThreads>>>(x, index, out, rows, n, k);
}

void LaunchGatherLastDimBackward(const float* g, const int64_t* index, float* grad_x, int64_t rows, int64_t n,
                                 int64_t k) {
  if (rows > 0) GatherLastDimBackwardKernel<<<Blocks(rows), kThreads>>>(g, index, grad_x, rows, n, k);
}

void LaunchTranspose(const float* x, float* out, int64_t batch, int64_t r, int64_t c) {
  if (batch * r * c > 0) TransposeKernel<<<Blocks(batch * r * c), kThreads>>>(x, out, batch, r, c);
}

void LaunchRandom(float* out, int64_t n, uint64_t seed, uint32_t step, uint16_t layer, uint16_t purpose,
                  uint64_t offset, bool normal, float shift, float scale) {
  if (n > 0) RandomKernel<<<Blocks(n), kThreads>>>(out, n, seed, step, layer, purpose, offset, normal, shift, scale);
}

}  // namespace onemodel::cuda
