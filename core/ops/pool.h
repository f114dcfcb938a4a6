// Max and average pooling, channels last. Padding is implicit: padded positions never win a max and are
// not counted in an average. The 1-D versions pool [B, T, C] along T.
#ifndef ONEMODEL_CORE_OPS_POOL_H_
#define ONEMODEL_CORE_OPS_POOL_H_

#include <cstdint>

#include "core/tensor.h"

namespace onemodel::ops {

struct Pool2dOptions {
  int64_t kernel_h = 2, kernel_w = 2;
  int64_t stride_h = 2, stride_w = 2;
  int64_t pad_h = 0, pad_w = 0;  // each side
};

Tensor MaxPool2d(const Tensor& x, const Pool2dOptions& options);  // [B, H, W, C] -> [B, OH, OW, C]
Tensor AvgPool2d(const Tensor& x, const Pool2dOptions& options);
Tensor MaxPool1d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding = 0);  // [B, T, C]
Tensor AvgPool1d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding = 0);

}  // namespace onemodel::ops

#endif  // ONEMODEL_CORE_OPS_POOL_H_
