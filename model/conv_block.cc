#include "model/conv_block.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/ops/ops.h"
#include "core/rng.h"

namespace onemodel::model {
namespace {
constexpr uint16_t kInitPurpose = 51;
}  // namespace

ConvBlock::Step::Step(int64_t dim, const ConvStep& s, uint64_t seed, uint16_t layer, uint32_t index) : spec(s) {
  CHECK(s.kernel >= 1 && s.dilation >= 1) << "ConvBlock: kernel " << s.kernel << " and dilation " << s.dilation
                                          << " must be >= 1";
  const float dw_bound = std::sqrt(3.f / s.kernel), pw_bound = std::sqrt(6.f / dim);
  depthwise = RegisterParameter(
      "depthwise", RandomUniform({s.kernel, dim}, RngKey{seed, 2 * index, layer, kInitPurpose}, -dw_bound, dw_bound));
  pointwise = RegisterParameter(
      "pointwise", RandomUniform({dim, dim}, RngKey{seed, 2 * index + 1, layer, kInitPurpose}, -pw_bound, pw_bound));
  bias = RegisterParameter("bias", Tensor::Zeros({dim}));
  gamma = RegisterParameter("norm.gamma", Tensor::Full({dim}, 1.f));
  beta = RegisterParameter("norm.beta", Tensor::Zeros({dim}));
}

ConvBlock::ConvBlock(int64_t dim, const std::vector<ConvStep>& steps, bool causal, uint64_t seed, uint16_t layer)
    : causal_(causal) {
  CHECK(!steps.empty()) << "ConvBlock: needs at least one step";
  for (size_t i = 0; i < steps.size(); ++i) {
    steps_.push_back(std::make_unique<Step>(dim, steps[i], seed, layer, static_cast<uint32_t>(i)));
    RegisterModule(absl::StrCat("step", i), steps_.back().get());
  }
}

Tensor ApplyMask(const Tensor& x, const Tensor& mask) {
  if (!mask.defined()) return x;
  return ops::Mul(x, ops::Reshape(mask, {mask.dim(0), mask.dim(1), 1}));
}

Tensor ConvBlock::Forward(const Tensor& x, const Tensor& mask) const {
  CHECK_EQ(x.ndim(), 3) << "ConvBlock: expects [B, T, d], got " << ShapeToString(x.shape());
  Tensor y = x;
  for (const auto& step : steps_) {
    ops::Conv1dOptions o;
    o.dilation = step->spec.dilation;
    o.causal = causal_;
    // "Same" length: (kernel - 1) * dilation of padding, split evenly (odd kernels) or all on the left (causal).
    CHECK(causal_ || step->spec.kernel % 2 == 1) << "ConvBlock: a non-causal step needs an odd kernel, got "
                                                 << step->spec.kernel;
    o.padding = (step->spec.kernel - 1) * step->spec.dilation / 2;
    y = ops::LayerNorm(ops::SeparableConv1d(ApplyMask(ops::Relu(y), mask), step->depthwise, step->pointwise, step->bias, o),
                       step->gamma, step->beta);
  }
  return ops::Add(x, y);
}

}  // namespace onemodel::model
