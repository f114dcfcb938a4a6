// The depthwise conv's AVX-512 path on the CPU, for whole vectors of 16 channels and 3-tap or 3x3 kernels: in
// the default model the trunk's 1-D convolutions and the image and audio stems' strided convs (the stems' first
// layer is PlaneConv3x3Relu). Each output value is one chain of fused multiply-adds over its taps, in the taps'
// order, written once — where the general path adds one tap's product into the output at a time, reading and
// writing it once per tap. The same chain gives the input gradient (a correlation with the taps reversed; along a
// strided width, one per residue class of the input columns, with only the taps that reach it); the weight
// gradient keeps each tap's sum in a register across a band of rows.
#ifndef ONEMODEL_CORE_OPS_DEPTHWISE_AVX512_H_
#define ONEMODEL_CORE_OPS_DEPTHWISE_AVX512_H_

#include <cstdint>

#include "core/ops/conv.h"

namespace onemodel::ops {

// A depthwise conv's sizes: input [b, h, w, c], kernel [kh, kw, c], output [b, oh, ow, c].
struct DepthwiseGeometry {
  int64_t b, h, w, c, kh, kw, oh, ow;
};

// Whether the AVX-512 path takes this conv (forward and backward): c a positive multiple of 16, a 3-tap or 3x3
// kernel (the default's), and a CPU with AVX-512F.
bool DepthwiseAvx512Applies(const DepthwiseGeometry& g, const Conv2dOptions& o);

// out = conv(x, w), every element written (out need not be zeroed).
void DepthwiseForwardAvx512(const DepthwiseGeometry& g, const Conv2dOptions& o, const float* x, const float* w,
                            float* out);

// gx (every element written) and gw (written) from the output's gradient.
void DepthwiseBackwardAvx512(const DepthwiseGeometry& g, const Conv2dOptions& o, const float* x, const float* w,
                             const float* grad, float* gx, float* gw);

}  // namespace onemodel::ops

#endif  // ONEMODEL_CORE_OPS_DEPTHWISE_AVX512_H_
