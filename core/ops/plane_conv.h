// The image and audio stems' first layer as one op: a full 3x3 convolution (stride 1, zero padding 1) of a
// one-channel plane into C channels, plus a bias, then relu. Built from separable parts (the value copied into C
// channels, a depthwise 3x3, bias, relu, the padding rows' mask) it writes and reads back a [B, H, W, C] tensor
// at every step — the largest tensors of the default model (a speech batch's full time x mel-band resolution);
// here each output is written once and the backward reads it once. Forward and backward side by side.
#ifndef ONEMODEL_CORE_OPS_PLANE_CONV_H_
#define ONEMODEL_CORE_OPS_PLANE_CONV_H_

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace onemodel::ops {

// x [B, H, W], weight [3, 3, C], bias [C] -> relu(conv(x, weight) + bias) [B, H, W, C]. `rows` (empty: all H)
// holds each plane's real rows: the rows from rows[b] on read as zero padding and are zero in the output, so the
// real rows do not depend on what the padding holds.
Tensor PlaneConv3x3Relu(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const std::vector<int64_t>& rows = {});
// The same function composed of ops that have CUDA kernels (each position's 9 neighbours gathered by a depthwise
// conv, an f32 product with the kernel, bias, relu; the rows' mask multiplied in before and after, so there the
// padding must be finite): what PlaneConv3x3Relu runs on CUDA; tests run it on the CPU too.
Tensor PlaneConv3x3ReluComposed(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                const std::vector<int64_t>& rows = {});

}  // namespace onemodel::ops

#endif  // ONEMODEL_CORE_OPS_PLANE_CONV_H_
