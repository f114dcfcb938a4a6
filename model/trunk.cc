#include "model/trunk.h"

#include "absl/strings/str_cat.h"
#include "core/ops/ops.h"
#include "moe/moe_config.h"

namespace onemodel::model {
namespace {

absl::Status Bad(const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("config field ", field, ": ", why));
}

// Kernel 3; the first step undilated, later ones dilated 2, 4, ... (tensor2tensor's conv_block stacks).
std::vector<ConvStep> Steps(const config::TrunkConfig& config) {
  std::vector<ConvStep> steps;
  for (int i = 0; i < config.conv_steps(); ++i) steps.push_back({3, int64_t{1} << i});
  return steps;
}

}  // namespace

absl::Status ValidateTrunkConfig(const config::TrunkConfig& c, const std::string& prefix) {
  if (c.dim() < 2 || c.dim() % 2 != 0) return Bad(prefix + ".dim", absl::StrCat(c.dim(), " must be even and >= 2"));
  if (c.heads() < 1 || c.dim() % c.heads() != 0) {
    return Bad(prefix + ".heads", absl::StrCat(c.heads(), " must divide dim ", c.dim()));
  }
  if (c.conv_steps() < 1 || c.conv_steps() > 8) {
    return Bad(prefix + ".conv_steps", absl::StrCat(c.conv_steps(), " must be in [1, 8]"));
  }
  if (c.image_channels() < 1) return Bad(prefix + ".image_channels", "must be >= 1");
  if (c.audio_frame_stride() != 4 && c.audio_frame_stride() != 8) {
    return Bad(prefix + ".audio_frame_stride", absl::StrCat(c.audio_frame_stride(), " must be 4 or 8"));
  }
  if (c.dropout() < 0 || c.dropout() >= 1) return Bad(prefix + ".dropout", "must be in [0, 1)");
  if (c.label_smoothing() < 0 || c.label_smoothing() >= 1) return Bad(prefix + ".label_smoothing", "must be in [0, 1)");
  absl::Status s = moe::ValidateMoeConfig(c.encoder_moe(), c.dim(), prefix + ".encoder_moe");
  if (!s.ok()) return s;
  return moe::ValidateMoeConfig(c.decoder_moe(), c.dim(), prefix + ".decoder_moe");
}

void TrunkAux::Add(moe::MoeOutput& out) {
  aux_losses.push_back(out.aux_loss);
  routing.push_back(std::move(out.stats));
}

MoeBlock::MoeBlock(const config::MoeConfig& config, int64_t dim, uint64_t seed, uint16_t layer,
                   const moe::MoeParallel& parallel)
    : moe_(moe::MakeMoeLayer(config, dim, seed, layer, parallel)) {
  gamma_ = RegisterParameter("norm.gamma", Tensor::Full({dim}, 1.f));
  beta_ = RegisterParameter("norm.beta", Tensor::Zeros({dim}));
  RegisterModule("moe", moe_.get());
}

Tensor MoeBlock::Forward(const Tensor& x, const RunContext& run, TrunkAux* aux, const Tensor& mask) const {
  const Tensor normed = ops::LayerNorm(x, gamma_, beta_);
  if (!mask.defined()) {
    moe::MoeOutput out = moe_->Forward(normed, run.step, run.training);
    aux->Add(out);
    return ops::Add(x, out.y);
  }
  // Only real positions are routed: padding would take expert capacity (and load-balancing weight) from real
  // tokens. Padded positions get no MoE output.
  const int64_t d = x.dim(-1), n = x.numel() / d;
  const std::vector<float> m = mask.ToVector();
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < n; ++i) {
    if (m[i] > 0.5f) rows.push_back(i);
  }
  if (rows.empty()) return x;
  const Tensor index = Tensor::FromIndices(rows, {static_cast<int64_t>(rows.size())});
  moe::MoeOutput out = moe_->Forward(ops::IndexSelect(ops::Reshape(normed, {n, d}), index), run.step, run.training);
  aux->Add(out);
  return ops::Add(x, ops::Reshape(ops::ScatterAddRows(out.y, index, n), x.shape()));
}

AttentionBlock::AttentionBlock(int64_t dim, int64_t heads, uint64_t seed, uint16_t layer)
    : attention_(dim, heads, seed, layer) {
  gamma_ = RegisterParameter("norm.gamma", Tensor::Full({dim}, 1.f));
  beta_ = RegisterParameter("norm.beta", Tensor::Zeros({dim}));
  RegisterModule("attention", &attention_);
}

Tensor AttentionBlock::Forward(const Tensor& x, const Tensor& memory, bool causal, const Tensor& key_mask) const {
  return ops::Add(x, attention_.Forward(ops::LayerNorm(x, gamma_, beta_), memory, causal, key_mask));
}

Tensor AttentionBlock::ForwardSelf(const Tensor& x, bool causal, const Tensor& key_mask) const {
  const Tensor normed = ops::LayerNorm(x, gamma_, beta_);
  return ops::Add(x, attention_.Forward(normed, normed, causal, key_mask));
}

Encoder::Encoder(const config::TrunkConfig& c, uint64_t seed, uint16_t layer, const moe::MoeParallel& parallel)
    : conv_in_(c.dim(), Steps(c), false, seed, layer),
      attention_(c.dim(), c.heads(), seed, layer + 1),
      moe_(c.encoder_moe(), c.dim(), seed, layer + 2, parallel),
      conv_out_(c.dim(), Steps(c), false, seed, layer + 3) {
  RegisterModule("conv_in", &conv_in_);
  RegisterModule("attention", &attention_);
  RegisterModule("moe", &moe_);
  RegisterModule("conv_out", &conv_out_);
  gamma_ = RegisterParameter("norm.gamma", Tensor::Full({c.dim()}, 1.f));
  beta_ = RegisterParameter("norm.beta", Tensor::Zeros({c.dim()}));
}

Tensor Encoder::Forward(const Tensor& x, const Tensor& mask, const RunContext& run, TrunkAux* aux) const {
  // Padding is zeroed before every convolution step (inside the blocks) so that it reads as the convolution's own
  // zero padding, and is not routed by the MoE: real positions do not depend on the padding after them.
  Tensor h = ApplyMask(conv_in_.Forward(x, mask), mask);
  h = attention_.ForwardSelf(h, false, mask);
  h = ApplyMask(moe_.Forward(h, run, aux, mask), mask);
  h = conv_out_.Forward(h, mask);
  return ApplyMask(ops::LayerNorm(h, gamma_, beta_), mask);
}

Mixer::Mixer(const config::TrunkConfig& c, uint64_t seed, uint16_t layer)
    : attention_(c.dim(), c.heads(), seed, layer), conv_(c.dim(), Steps(c), true, seed, layer + 1) {
  RegisterModule("attention", &attention_);
  RegisterModule("conv", &conv_);
}

Tensor Mixer::Forward(const Tensor& targets, const Tensor& encoded, const Tensor& input_mask) const {
  return conv_.Forward(attention_.Forward(targets, encoded, false, input_mask));
}

Decoder::Decoder(const config::TrunkConfig& c, uint64_t seed, uint16_t layer, const moe::MoeParallel& parallel)
    : self_attention_(c.dim(), c.heads(), seed, layer),
      encoder_attention_(c.dim(), c.heads(), seed, layer + 1),
      moe_(c.decoder_moe(), c.dim(), seed, layer + 2, parallel),
      conv_(c.dim(), Steps(c), true, seed, layer + 3) {
  RegisterModule("self_attention", &self_attention_);
  RegisterModule("encoder_attention", &encoder_attention_);
  RegisterModule("moe", &moe_);
  RegisterModule("conv", &conv_);
  gamma_ = RegisterParameter("norm.gamma", Tensor::Full({c.dim()}, 1.f));
  beta_ = RegisterParameter("norm.beta", Tensor::Zeros({c.dim()}));
}

Tensor Decoder::Forward(const Tensor& mixed, const Tensor& encoded, const Tensor& input_mask, const RunContext& run,
                        TrunkAux* aux, const Tensor& target_mask) const {
  Tensor h = self_attention_.ForwardSelf(mixed, true, Tensor());
  h = encoder_attention_.Forward(h, encoded, false, input_mask);
  h = moe_.Forward(h, run, aux, target_mask);
  h = conv_.Forward(h);
  return ops::LayerNorm(h, gamma_, beta_);
}

}  // namespace onemodel::model
