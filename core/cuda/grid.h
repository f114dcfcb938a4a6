// Launch geometry shared by the kernel files: 256-thread blocks, grid-stride loops, and a grid capped at 65535
// blocks (grid-stride beyond that). Included by .cu files only.
#ifndef ONEMODEL_CORE_CUDA_GRID_H_
#define ONEMODEL_CORE_CUDA_GRID_H_

#include <cstdint>

namespace onemodel::cuda {

constexpr int kThreads = 256;

inline int Blocks(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<int>(blocks < 65535 ? (blocks > 0 ? blocks : 1) : 65535);
}

}  // namespace onemodel::cuda

#define OM_GRID_STRIDE(i, n)                                                             \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

#endif  // ONEMODEL_CORE_CUDA_GRID_H_
