#include "model/modalities.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/ops/ops.h"
#include "core/rng.h"
#include "model/conv_block.h"

namespace onemodel::model {
namespace {

constexpr uint16_t kInitPurpose = 53;
constexpr int64_t kStemBasis = 9;

Tensor InitUniform(const Shape& shape, float bound, uint64_t seed, uint16_t layer, uint32_t part) {
  return RandomUniform(shape, RngKey{seed, part, layer, kInitPurpose}, -bound, bound);
}

// x [B, H, W, C] with rows >= rows[b] of plane b zeroed (nothing to do without `rows`).
Tensor ZeroRowsAfter(const Tensor& x, const std::vector<int64_t>& rows) {
  const int64_t h = x.dim(1);
  if (rows.empty() || std::all_of(rows.begin(), rows.end(), [h](int64_t r) { return r >= h; })) return x;
  return ops::Mul(x, ops::Reshape(ops::LengthMask(rows, h, x.device()), {x.dim(0), h, 1, 1}));
}

// ceil(rows / 2): the real rows after a stride-2 block.
std::vector<int64_t> Halved(std::vector<int64_t> rows) {
  for (int64_t& r : rows) r = (r + 1) / 2;
  return rows;
}

}  // namespace

StridedConvStack::Stem::Stem(int64_t channels, uint64_t seed, uint16_t layer) {
  depthwise = RegisterParameter("depthwise",
                                InitUniform({3, 3, kStemBasis}, std::sqrt(3.f / 9.f), seed, layer, 0));
  pointwise = RegisterParameter("pointwise",
                                InitUniform({kStemBasis, channels}, std::sqrt(6.f / kStemBasis), seed, layer, 1));
  bias = RegisterParameter("bias", Tensor::Zeros({channels}));
}

// The value copied into 9 channels, each filtered by its own 3x3 kernel, mixed pointwise: one 3x3 kernel per output
// channel, the product of the two (the same function and gradients; the parameters stay factored as they train).
// No norm on the stem: over raw pixels it would erase the contrast between ink and background.
Tensor StridedConvStack::Stem::Forward(const Tensor& plane, const std::vector<int64_t>& rows) const {
  const ops::MatmulPrecisionScope f32(ops::MatmulPrecision::kF32);  // 9 x 9 x C: rounding to bf16 gains nothing
  const Tensor kernel = ops::MatMul(ops::Reshape(depthwise, {9, kStemBasis}), pointwise);
  return ops::PlaneConv3x3Relu(plane, ops::Reshape(kernel, {3, 3, pointwise.dim(1)}), bias, rows);
}

StridedConvStack::Block::Block(int64_t in, int64_t out, int64_t rows, int64_t columns, uint64_t seed,
                               uint16_t layer)
    : row_stride(rows), column_stride(columns) {
  depthwise = RegisterParameter("depthwise", InitUniform({3, 3, in}, std::sqrt(3.f / 9.f), seed, layer, 0));
  pointwise = RegisterParameter("pointwise", InitUniform({in, out}, std::sqrt(6.f / in), seed, layer, 1));
  bias = RegisterParameter("bias", Tensor::Zeros({out}));
  gamma = RegisterParameter("norm.gamma", Tensor::Full({out}, 1.f));
  beta = RegisterParameter("norm.beta", Tensor::Zeros({out}));
}

Tensor StridedConvStack::Block::Forward(const Tensor& x) const {
  ops::Conv2dOptions o;
  o.stride_h = row_stride;
  o.stride_w = column_stride;
  o.pad_top = o.pad_bottom = o.pad_left = o.pad_right = 1;
  return ops::Relu(ops::LayerNorm(ops::SeparableConv2d(x, depthwise, pointwise, bias, o), gamma, beta));
}

StridedConvStack::StridedConvStack(int64_t channels, int64_t out, uint64_t seed, uint16_t layer,
                                   int64_t last_row_stride)
    : stem_(channels, seed, layer),
      down1_(channels, 2 * channels, 2, 2, seed, layer + 1),
      down2_(2 * channels, out, 2, 2, seed, layer + 2),
      down3_(out, out, last_row_stride, 2, seed, layer + 3) {
  RegisterModule("stem", &stem_);
  RegisterModule("down1", &down1_);
  RegisterModule("down2", &down2_);
  RegisterModule("down3", &down3_);
}

Tensor StridedConvStack::Forward(const Tensor& plane, const std::vector<int64_t>& rows) const {
  CHECK_EQ(plane.ndim(), 3) << "StridedConvStack: expects [B, H, W], got " << ShapeToString(plane.shape());
  CHECK(rows.empty() || static_cast<int64_t>(rows.size()) == plane.dim(0))
      << "StridedConvStack: " << rows.size() << " row counts for " << plane.dim(0) << " planes";
  Tensor x = stem_.Forward(plane, rows);
  const std::vector<int64_t> half = Halved(rows), quarter = Halved(half);
  x = ZeroRowsAfter(down1_.Forward(x), half);
  return down3_.Forward(ZeroRowsAfter(down2_.Forward(x), quarter));
}

ImageModality::ImageModality(int64_t channels, int64_t dim, uint64_t seed, uint16_t layer)
    : stack_(channels, dim, seed, layer) {
  RegisterModule("stack", &stack_);
}

Tensor ImageModality::Forward(const Tensor& images) const {
  CHECK_EQ(images.ndim(), 3) << "ImageModality: expects [B, H, W], got " << ShapeToString(images.shape());
  // Centre the [0, 1] pixels on Fashion-MNIST's mean and scale (0.286, 0.353); any gray image works.
  const Tensor x = stack_.Forward(ops::Scale(ops::AddScalar(images, -0.286f), 1 / 0.353f));
  return ops::Reshape(x, {x.dim(0), x.dim(1) * x.dim(2), x.dim(3)});
}

AudioModality::AudioModality(int64_t channels, int64_t mels, int64_t dim, int64_t frame_stride, uint64_t seed,
                             uint16_t layer)
    : stack_(channels, 2 * channels, seed, layer, frame_stride / 4), mels_(mels), frame_stride_(frame_stride) {
  CHECK(frame_stride == 4 || frame_stride == 8) << "AudioModality: frame stride " << frame_stride << ", not 4 or 8";
  RegisterModule("stack", &stack_);
  const int64_t in = (mels + 7) / 8 * 2 * channels;
  projection = RegisterParameter("projection", InitUniform({in, dim}, std::sqrt(3.f / in), seed, layer + 4, 0));
  bias = RegisterParameter("bias", Tensor::Zeros({dim}));
}

Tensor AudioModality::Forward(const Tensor& features, const std::vector<int64_t>& frames) const {
  CHECK(features.ndim() == 3 && features.dim(2) == mels_)
      << "AudioModality: expects [B, T, " << mels_ << "] log-mel frames, got " << ShapeToString(features.shape());
  const Tensor x = stack_.Forward(features, frames);  // [B, T/s, mels/8, C]
  return ops::BiasAdd(ops::MatMul(ops::Reshape(x, {x.dim(0), x.dim(1), x.dim(2) * x.dim(3)}), projection), bias);
}

SymbolModality::SymbolModality(int64_t vocab, int64_t dim, uint64_t seed, uint16_t layer) {
  // N(0, 1/d) rows: embeddings times sqrt(d) have unit scale, logits start near zero.
  table = RegisterParameter("embedding", RandomNormal({vocab, dim}, RngKey{seed, 0, layer, kInitPurpose}, 0.f,
                                                      1.f / std::sqrt(static_cast<float>(dim))));
}

Tensor SymbolModality::Embed(const Tensor& ids) const {
  return ops::Scale(ops::Embedding(table, ids), std::sqrt(static_cast<float>(table.dim(1))));
}

Tensor SymbolModality::Logits(const Tensor& h) const { return ops::MatMul(h, table, false, true); }

ClassLabelModality::ClassLabelModality(int64_t classes, int64_t dim, uint64_t seed, uint16_t layer) {
  weight = RegisterParameter("weight", InitUniform({dim, classes}, std::sqrt(3.f / dim), seed, layer, 0));
  bias = RegisterParameter("bias", Tensor::Zeros({classes}));
}

Tensor ClassLabelModality::Logits(const Tensor& h) const {
  return ops::BiasAdd(ops::MatMul(ops::Mean(h, 1), weight), bias);
}

}  // namespace onemodel::model
