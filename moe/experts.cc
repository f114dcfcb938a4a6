#include "moe/experts.h"

#include <cmath>

#include "core/ops/ops.h"
#include "core/rng.h"

namespace onemodel::moe {
namespace {

constexpr uint16_t kInitPurpose = 20;

// Uniform with variance 1 / fan_in (LeCun); `part` separates the tensors of one layer. Expert e's values are
// elements [e * per_expert, (e + 1) * per_expert) of the stream, so a shard of experts starting at global expert
// `first` holds exactly the values the unsharded tensor has there.
Tensor Init(const Shape& shape, int64_t fan_in, uint64_t seed, uint16_t layer, uint32_t part, int64_t first = 0) {
  const float bound = std::sqrt(3.f / static_cast<float>(fan_in));
  const int64_t per_expert = NumElements(shape) / shape[0];
  return RandomUniform(shape, RngKey{seed, part, layer, kInitPurpose}, -bound, bound,
                       static_cast<uint64_t>(first * per_expert));
}

}  // namespace

UnaryKind ActivationKind(config::MoeConfig::Activation activation) {
  switch (activation) {
    case config::MoeConfig::RELU: return UnaryKind::kRelu;
    case config::MoeConfig::GELU: return UnaryKind::kGelu;
    case config::MoeConfig::SILU: return UnaryKind::kSilu;
    case config::MoeConfig::CUBE: return UnaryKind::kCube;
  }
  return UnaryKind::kRelu;
}

FfnExperts::FfnExperts(int64_t num_experts, int64_t dim, int64_t hidden, UnaryKind activation, bool swiglu,
                       uint64_t seed, uint16_t layer, int64_t first_expert)
    : activation_(activation) {
  w_in = RegisterParameter("w_in", Init({num_experts, dim, hidden}, dim, seed, layer, 0, first_expert));
  if (swiglu) {
    w_gate = RegisterParameter("w_gate", Init({num_experts, dim, hidden}, dim, seed, layer, 1, first_expert));
  }
  w_out = RegisterParameter("w_out", Init({num_experts, hidden, dim}, hidden, seed, layer, 2, first_expert));
}

Tensor FfnExperts::Forward(const Tensor& rows, const std::vector<int64_t>& rows_per_expert) const {
  Tensor h = ops::GroupedMatMul(rows, w_in, rows_per_expert);
  h = w_gate.defined() ? ops::Mul(ops::Unary(ops::GroupedMatMul(rows, w_gate, rows_per_expert), activation_), h)
                       : ops::Unary(h, activation_);
  return ops::GroupedMatMul(h, w_out, rows_per_expert);
}

PatchConvExperts::PatchConvExperts(int64_t num_experts, int64_t patch_dim, int64_t outputs, int64_t filters,
                                   std::optional<UnaryKind> activation, float init_scale, uint64_t seed,
                                   uint16_t layer)
    : outputs_(outputs), filters_(filters), activation_(activation) {
  const float bound = init_scale / std::sqrt(static_cast<float>(patch_dim));
  weight = RegisterParameter("weight", RandomUniform({num_experts, patch_dim, outputs * filters},
                                                     RngKey{seed, 6, layer, kInitPurpose}, -bound, bound));
}

Tensor PatchConvExperts::Forward(const Tensor& rows, const std::vector<int64_t>& rows_per_expert) const {
  const int64_t a = rows.dim(0), patch_dim = weight.dim(1), patches = rows.dim(1) / patch_dim;
  CHECK_EQ(patches * patch_dim, rows.dim(1)) << "PatchConvExperts: a row of " << rows.dim(1)
                                             << " values is not a whole number of patches of " << patch_dim;
  std::vector<int64_t> patch_rows = rows_per_expert;
  for (int64_t& r : patch_rows) r *= patches;
  Tensor h = ops::GroupedMatMul(ops::Reshape(rows, {a * patches, patch_dim}), weight, patch_rows);
  if (activation_) h = ops::Unary(h, *activation_);
  const Tensor per_token = ops::Sum(ops::Reshape(h, {a, patches, outputs_ * filters_}), 1);  // over patches
  return ops::Sum(ops::Reshape(per_token, {a, outputs_, filters_}), 2);                      // over filters
}

Ffn::Ffn(int64_t dim, int64_t hidden, UnaryKind activation, bool swiglu, uint64_t seed, uint16_t layer)
    : activation_(activation) {
  w_in = RegisterParameter("w_in", Init({dim, hidden}, dim, seed, layer, 3));
  if (swiglu) w_gate = RegisterParameter("w_gate", Init({dim, hidden}, dim, seed, layer, 4));
  w_out = RegisterParameter("w_out", Init({hidden, dim}, hidden, seed, layer, 5));
}

Tensor Ffn::Forward(const Tensor& x) const {
  Tensor h = ops::MatMul(x, w_in);
  h = w_gate.defined() ? ops::Mul(ops::Unary(ops::MatMul(x, w_gate), activation_), h) : ops::Unary(h, activation_);
  return ops::MatMul(h, w_out);
}

}  // namespace onemodel::moe
