#include "moe/router.h"

#include <cmath>

#include "core/autograd.h"
#include "core/ops/ops.h"
#include "moe/capacity.h"

namespace onemodel::moe {
namespace {

// RNG purposes within a router layer.
constexpr uint16_t kInitPurpose = 10, kNoisePurpose = 11, kJitterPurpose = 12, kSecondPurpose = 13;
// Shazeer et al.'s noise_epsilon: keeps the noise scale (and the load estimator's denominator) positive.
constexpr float kNoiseEpsilon = 1e-2f;

Tensor Columns(const Tensor& x, int64_t begin, int64_t end) { return ops::Narrow(x, 1, begin, end); }

// Routers stay in f32 under bf16 mixed precision: a rounded gate logit can flip which experts a token picks.
Tensor GateMatMul(const Tensor& x, const Tensor& weight) {
  const ops::MatmulPrecisionScope f32(ops::MatmulPrecision::kF32);
  return ops::MatMul(x, weight);
}

}  // namespace

TopKGates TopKSoftmax(const Tensor& logits, int64_t k) {
  ops::TopKResult top = ops::TopK(logits, k);
  return {top.indices, ops::Softmax(top.values)};
}

Routing FromTopK(const TopKGates& choice, int64_t num_experts) {
  const int64_t t = choice.indices.dim(0), k = choice.indices.dim(1);
  Routing r;
  r.num_tokens = t;
  r.num_experts = num_experts;
  const std::vector<int64_t> idx = choice.indices.ToIndices();
  std::vector<int64_t> tokens(t * k), experts(t * k);
  for (int64_t s = 0; s < k; ++s) {
    for (int64_t i = 0; i < t; ++i) {
      tokens[s * t + i] = i;
      experts[s * t + i] = idx[i * k + s];
    }
  }
  r.token = Tensor::FromIndices(tokens, {t * k});
  r.expert = Tensor::FromIndices(experts, {t * k});
  r.gate = ops::Reshape(ops::TransposeLast2(choice.gates), {t * k});  // slot-major
  r.routed = t * k;
  return r;
}

Router::Router(const config::RouterConfig& config, int64_t dim, int64_t num_experts, uint64_t seed, uint16_t layer)
    : config_(config), num_experts_(num_experts), seed_(seed), layer_(layer) {
  const RngKey init{seed, 0, layer, kInitPurpose};
  switch (config.kind()) {
    case config::RouterConfig::NOISY_TOP_K:
      // Zero-initialized gate and noise weights (Shazeer et al.): the noise breaks the first ties.
      weight_ = RegisterParameter("weight", Tensor::Zeros({dim, num_experts}));
      noise_weight_ = RegisterParameter("noise_weight", Tensor::Zeros({dim, num_experts}));
      break;
    case config::RouterConfig::LAPLACE:
      // Expert centers at unit-scale random points, so distances differ from the start.
      weight_ = RegisterParameter("centers", RandomNormal({num_experts, dim}, init, 0.f, 1.f / std::sqrt(dim)));
      bias_ = RegisterParameter("bias", Tensor::Zeros({num_experts}));
      break;
    default:
      weight_ = RegisterParameter("weight", RandomNormal({dim, num_experts}, init, 0.f, 0.1f / std::sqrt(dim)));
  }
}

Tensor Router::Logits(const Tensor& x) const {
  if (config_.kind() == config::RouterConfig::LAPLACE) {
    return ops::BiasAdd(ops::Scale(ops::PairwiseL2(x, weight_), -1.f), bias_);
  }
  return GateMatMul(x, weight_);
}

Tensor Router::SelectionLogits(const Tensor& x, uint32_t step, bool training, Tensor* noise_std,
                               uint64_t token_offset) const {
  const Tensor clean = Logits(x);
  if (config_.kind() != config::RouterConfig::NOISY_TOP_K || !training || !config_.noise()) return clean;
  const Tensor std = ops::AddScalar(ops::Softplus(GateMatMul(x, noise_weight_)), kNoiseEpsilon);
  if (noise_std != nullptr) *noise_std = std;
  const Tensor noise = RandomNormal(clean.shape(), RngKey{seed_, step, layer_, kNoisePurpose}, 0.f, 1.f,
                                    token_offset * num_experts_, x.device());
  return ops::Add(clean, ops::Mul(noise, std));
}

Routing Router::Route(const Tensor& x, uint32_t step, bool training, uint64_t token_offset) const {
  CHECK_EQ(x.ndim(), 2) << "Router: expects tokens [T, d], got " << ShapeToString(x.shape());
  switch (config_.kind()) {
    case config::RouterConfig::NOISY_TOP_K: return NoisyTopK(x, step, training, token_offset);
    case config::RouterConfig::SWITCH: return Switch(x, step, training, token_offset);
    case config::RouterConfig::GSHARD: return GShard(x, step, training, token_offset);
    case config::RouterConfig::EXPERT_CHOICE: return ExpertChoice(x, training);
    case config::RouterConfig::LAPLACE: {
      const Tensor logits = Logits(x);
      Routing r = FromTopK(TopKSoftmax(logits, config_.top_k()), num_experts_);
      r.logits = logits;
      r.probs = ops::Softmax(logits);
      return r;
    }
  }
  LOG(FATAL) << "unknown router kind " << config_.kind();
}

Routing Router::NoisyTopK(const Tensor& x, uint32_t step, bool training, uint64_t token_offset) const {
  const int64_t k = config_.top_k(), e = num_experts_;
  const Tensor clean = GateMatMul(x, weight_);
  const bool noisy = training && config_.noise();
  Tensor noise_std;
  const Tensor logits = SelectionLogits(x, step, training, &noise_std, token_offset);
  Routing r = FromTopK(TopKSoftmax(logits, k), e);
  r.logits = clean;
  r.probs = ops::Softmax(clean);
  if (noisy && k < e) {
    // Smooth load estimate: P(expert i stays in the top k when only its own noise is redrawn)
    // = Φ((clean_i - threshold) / std_i); the threshold is the k-th largest of the other noisy logits:
    // the (k+1)-th overall when i is in the top k, the k-th otherwise.
    const Tensor top = ops::TopK(logits, k + 1).values;
    const Tensor threshold_if_in = Columns(top, k, k + 1);
    const Tensor threshold_if_out = Columns(top, k - 1, k);
    // Which experts each token picked (its top k of the noisy logits), from the routing's host-side lists: no
    // copy of the logits back from the device.
    std::vector<float> picked(clean.numel(), 0.f);
    const std::vector<int64_t> tokens = r.token.ToIndices(), experts = r.expert.ToIndices();
    for (size_t i = 0; i < tokens.size(); ++i) picked[tokens[i] * e + experts[i]] = 1.f;
    const Tensor is_in = Tensor::FromVector(picked, clean.shape()).To(x.device());
    const Tensor prob_if_in = ops::NormalCdf(ops::Div(ops::Sub(clean, threshold_if_in), noise_std));
    const Tensor prob_if_out = ops::NormalCdf(ops::Div(ops::Sub(clean, threshold_if_out), noise_std));
    const Tensor is_out = ops::AddScalar(ops::Scale(is_in, -1.f), 1.f);
    r.load_estimate = ops::Sum(ops::Add(ops::Mul(prob_if_in, is_in), ops::Mul(prob_if_out, is_out)), 0);
  }
  return r;
}

Routing Router::Switch(const Tensor& x, uint32_t step, bool training, uint64_t token_offset) const {
  Tensor input = x;
  if (training && config_.jitter() > 0.f) {
    const float j = config_.jitter();
    input = ops::Mul(x, RandomUniform(x.shape(), RngKey{seed_, step, layer_, kJitterPurpose}, 1.f - j, 1.f + j,
                                      token_offset * static_cast<uint64_t>(x.dim(1)),
                                      x.device()));
  }
  const Tensor logits = GateMatMul(input, weight_);
  const Tensor probs = ops::Softmax(logits);
  const ops::TopKResult top = ops::TopK(probs, 1);
  Routing r = FromTopK({top.indices, top.values}, num_experts_);
  r.logits = logits;
  r.probs = probs;
  return r;
}

Routing Router::GShard(const Tensor& x, uint32_t step, bool training, uint64_t token_offset) const {
  const Tensor logits = GateMatMul(x, weight_);
  const Tensor probs = ops::Softmax(logits);
  const ops::TopKResult top = ops::TopK(probs, 2);
  const Tensor gates = ops::Div(top.values, ops::Sum(top.values, 1, /*keepdim=*/true));
  Routing r = FromTopK({top.indices, gates}, num_experts_);
  r.logits = logits;
  r.probs = probs;
  // The second expert is kept with probability min(1, g2 / threshold) in training, always in evaluation.
  const int64_t t = x.dim(0);
  const std::vector<float> g = gates.ToVector();
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < t; ++i) keep.push_back(i);
  for (int64_t i = 0; i < t; ++i) {
    const float u = UniformAt(RngKey{seed_, step, layer_, kSecondPurpose}, token_offset + i);
    if (!training || u * config_.second_threshold() < g[2 * i + 1]) keep.push_back(t + i);
  }
  if (static_cast<int64_t>(keep.size()) == 2 * t) return r;
  Routing kept = SelectAssignments(r, keep);
  return kept;
}

Routing Router::ExpertChoice(const Tensor& x, bool training) const {
  const int64_t t = x.dim(0), e = num_experts_;
  const float cf = training ? config_.capacity_factor_train() : config_.capacity_factor_eval();
  const int64_t capacity = std::min(t, ExpertCapacity(cf, config_.top_k(), t, e));
  const Tensor logits = GateMatMul(x, weight_);
  const Tensor probs = ops::Softmax(logits);
  const ops::TopKResult top = ops::TopK(ops::TransposeLast2(probs), capacity);  // [E, C]: each expert's tokens
  Routing r;
  r.num_tokens = t;
  r.num_experts = e;
  const std::vector<int64_t> tokens = top.indices.ToIndices();
  std::vector<int64_t> experts(tokens.size());
  for (size_t i = 0; i < experts.size(); ++i) experts[i] = static_cast<int64_t>(i) / capacity;
  r.token = Tensor::FromIndices(tokens, {e * capacity});
  r.expert = Tensor::FromIndices(experts, {e * capacity});
  r.gate = ops::Reshape(top.values, {e * capacity});
  r.logits = logits;
  r.probs = probs;
  r.routed = e * capacity;
  return r;
}

}  // namespace onemodel::moe
