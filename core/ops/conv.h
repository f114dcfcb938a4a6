// Depthwise and depthwise-separable convolutions, channels last: sequences [B, T, C], images [B, H, W, C].
// The separable conv (depthwise k x k per channel, then a pointwise C_in -> C_out matmul) is MultiModel's
// convolution step. conv1d is conv2d on a [B, T, 1, C] view, so both share one kernel.
#ifndef ONEMODEL_CORE_OPS_CONV_H_
#define ONEMODEL_CORE_OPS_CONV_H_

#include <cstdint>

#include "core/tensor.h"

namespace onemodel::ops {

struct Conv2dOptions {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int64_t dilation_h = 1, dilation_w = 1;
};

struct Conv1dOptions {
  int64_t stride = 1;
  int64_t padding = 0;  // on each side; ignored when causal
  int64_t dilation = 1;
  bool causal = false;  // pad (kernel - 1) * dilation on the left only: output t sees inputs <= t
};

// x [B, H, W, C], weight [KH, KW, C] -> [B, OH, OW, C].
Tensor DepthwiseConv2d(const Tensor& x, const Tensor& weight, const Conv2dOptions& options);
// x [B, T, C], weight [K, C] -> [B, T', C].
Tensor DepthwiseConv1d(const Tensor& x, const Tensor& weight, const Conv1dOptions& options);

// Depthwise then pointwise [C_in, C_out] plus bias [C_out] (bias may be undefined).
Tensor SeparableConv2d(const Tensor& x, const Tensor& depthwise, const Tensor& pointwise, const Tensor& bias,
                       const Conv2dOptions& options);
Tensor SeparableConv1d(const Tensor& x, const Tensor& depthwise, const Tensor& pointwise, const Tensor& bias,
                       const Conv1dOptions& options);

// Output length of a window op along one dim, with a clear error when the window does not fit.
int64_t WindowOutputSize(const char* op, int64_t input, int64_t kernel, int64_t stride, int64_t pad_before,
                         int64_t pad_after, int64_t dilation);

}  // namespace onemodel::ops

#endif  // ONEMODEL_CORE_OPS_CONV_H_
