// The convolution block of the MultiModel trunk (Kaiser et al. 2017; tensor2tensor's conv_block): steps of
// ReLU -> depthwise-separable conv -> layer norm over sequences [B, T, d], then a residual connection.
// Steps may be dilated; a causal block pads on the left only (the decoder's convolutions).
#ifndef ONEMODEL_MODEL_CONV_BLOCK_H_
#define ONEMODEL_MODEL_CONV_BLOCK_H_

#include <memory>
#include <vector>

#include "core/module.h"

namespace onemodel::model {

struct ConvStep {
  int64_t kernel = 3;
  int64_t dilation = 1;
};

// x [B, T, d] times mask [B, T] (1 real, 0 padding) per position; x itself when the mask is undefined.
Tensor ApplyMask(const Tensor& x, const Tensor& mask);

class ConvBlock : public Module {
 public:
  ConvBlock(int64_t dim, const std::vector<ConvStep>& steps, bool causal, uint64_t seed, uint16_t layer);
  // x [B, T, d] -> x + steps(x), same shape. With a mask [B, T] (1 real, 0 padding) every step's input is zeroed
  // at the padding, which then reads as the convolution's own zero padding: real positions do not depend on how
  // much padding follows them.
  Tensor Forward(const Tensor& x, const Tensor& mask = Tensor()) const;

 private:
  struct Step : public Module {
    Step(int64_t dim, const ConvStep& spec, uint64_t seed, uint16_t layer, uint32_t index);
    ConvStep spec;
    Tensor depthwise, pointwise, bias, gamma, beta;
  };
  bool causal_;
  std::vector<std::unique_ptr<Step>> steps_;
};

}  // namespace onemodel::model

#endif  // ONEMODEL_MODEL_CONV_BLOCK_H_
