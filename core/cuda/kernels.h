// Host-side launchers of the CUDA kernels (implemented in the .cu files, called by backend.cc).
#ifndef ONEMODEL_CORE_CUDA_KERNELS_H_
#define ONEMODEL_CORE_CUDA_KERNELS_H_

#include <cstdint>

#include "core/ops/unary_math.h"

namespace onemodel::cuda {

void LaunchUnaryForward(UnaryKind kind, const float* x, float* y, int64_t n);
void LaunchUnaryBackward(UnaryKind kind, const float* x, const float* y, const float* grad_y, float* grad_x,
                         int64_t n);

}  // namespace onemodel::cuda

#endif  // ONEMODEL_CORE_CUDA_KERNELS_H_
