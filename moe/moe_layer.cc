#include "moe/moe_layer.h"

#include <numeric>

#include "core/ops/ops.h"
#include "core/rng.h"
#include "distributed/expert_parallel.h"
#include "moe/capacity.h"
#include "moe/dispatcher.h"
#include "moe/losses.h"

namespace onemodel::moe {
namespace {

int64_t CapacityFor(const config::RouterConfig& router, bool training, int64_t k, int64_t tokens, int64_t experts) {
  if (router.kind() == config::RouterConfig::EXPERT_CHOICE) return 0;  // capacity is built into the routing
  return ExpertCapacity(training ? router.capacity_factor_train() : router.capacity_factor_eval(), k, tokens, experts);
}

// Capacity, dispatch, experts, combine: the part every layer of the family shares.
Tensor RunExperts(const FfnExperts& experts, const Tensor& x, const Routing& kept,
                  distributed::Communicator* expert_group = nullptr) {
  const DispatchPlan plan = PlanDispatch(kept);
  const Tensor rows = Dispatch(x, plan);
  if (expert_group == nullptr || expert_group->size() == 1) {
    return Combine(experts.Forward(rows, plan.rows_per_expert), plan);
  }
  return Combine(distributed::ExpertParallel(*expert_group, rows, plan.rows_per_expert,
                                             [&](const Tensor& local_rows, const std::vector<int64_t>& counts) {
                                               return experts.Forward(local_rows, counts);
                                             }),
                 plan);
}

int64_t LocalExperts(const config::MoeConfig& config, const distributed::Communicator* group) {
  if (group == nullptr) return config.num_experts();
  CHECK_EQ(config.num_experts() % group->size(), 0)
      << "moe.num_experts " << config.num_experts() << " does not split over " << group->size() << " expert ranks";
  return config.num_experts() / group->size();
}

Tensor RepeatEach(const Tensor& labels, int64_t times) {
  const std::vector<int64_t> in = labels.ToIndices();
  std::vector<int64_t> out;
  for (int64_t l : in) out.insert(out.end(), times, l);
  return Tensor::FromIndices(out, {static_cast<int64_t>(out.size())});
}

}  // namespace

Tensor AuxLoss(const config::MoeConfig& c, const Routing& r, distributed::Communicator* tokens) {
  Tensor total;
  auto add = [&total](float coef, const Tensor& loss) {
    const Tensor term = ops::Scale(loss, coef);
    total = total.defined() ? ops::Add(total, term) : term;
  };
  if (c.load_balance_coef() > 0) add(c.load_balance_coef(), SwitchLoadBalanceLoss(r, tokens));
  if (c.importance_coef() > 0) add(c.importance_coef(), ImportanceLoss(r, tokens));
  if (c.load_coef() > 0 && r.load_estimate.defined()) add(c.load_coef(), LoadLoss(r, tokens));
  if (c.z_loss_coef() > 0) add(c.z_loss_coef(), ZLoss(r, tokens));
  return total.defined() ? total : Tensor::Scalar(0.f).To(r.logits.device());
}

MoeLayer::MoeLayer(const config::MoeConfig& config, int64_t dim, uint64_t seed, uint16_t layer, MoeParallel parallel)
    : router(config.router(), dim, config.num_experts(), seed, layer),
      experts(LocalExperts(config, parallel.experts), dim, config.hidden(), ActivationKind(config.activation()),
              config.swiglu(), seed, layer,
              parallel.experts == nullptr ? 0 : parallel.experts->rank() * LocalExperts(config, parallel.experts)),
      config_(config),
      dim_(dim),
      parallel_(parallel) {
  CHECK(parallel.experts == nullptr || parallel.tokens != nullptr)
      << "MoeLayer: expert parallelism shards the batch: give the token group too";
  CHECK(parallel.tokens == nullptr || config.router().kind() != config::RouterConfig::EXPERT_CHOICE)
      << "MoeLayer: expert-choice routing picks tokens from the whole batch: not with a sharded batch yet";
  RegisterModule("router", &router);
  RegisterModule("experts", &experts);
  if (config.shared_expert()) {
    shared_expert = std::make_unique<Ffn>(dim, config.hidden(), ActivationKind(config.activation()), config.swiglu(),
                                          seed, layer);
    RegisterModule("shared_expert", shared_expert.get());
  }
}

MoeOutput MoeLayer::Forward(const Tensor& x, uint32_t step, bool training, const Tensor& labels) const {
  CHECK_EQ(x.dim(-1), dim_) << "MoeLayer: input " << ShapeToString(x.shape()) << " does not end in dim " << dim_;
  const Tensor tokens = ops::Reshape(x, {-1, dim_});
  const int64_t t = tokens.dim(0);
  // A sharded batch: this rank's tokens start at global index `offset` of `global` tokens.
  int64_t offset = 0, global = t;
  if (distributed::Communicator* group = parallel_.tokens; group != nullptr && group->size() > 1) {
    std::vector<int64_t> sizes(group->size(), 0);
    sizes[group->rank()] = t;
    CHECK(group->AllReduceSum(sizes.data(), group->size()).ok()) << "MoeLayer: token count all-reduce failed";
    offset = std::accumulate(sizes.begin(), sizes.begin() + group->rank(), int64_t{0});
    global = std::accumulate(sizes.begin(), sizes.end(), int64_t{0});
  }
  const Routing routing = router.Route(tokens, step, training, static_cast<uint64_t>(offset));
  const Routing kept = ApplyCapacity(
      routing, CapacityFor(config_.router(), training, config_.router().top_k(), global, config_.num_experts()),
      config_.router().top_k(), parallel_.tokens);
  Tensor y = RunExperts(experts, tokens, kept, parallel_.experts);
  if (shared_expert) y = ops::Add(y, shared_expert->Forward(tokens));
  return {ops::Reshape(y, x.shape()), AuxLoss(config_, routing, parallel_.tokens), ComputeRoutingStats(kept, labels)};
}

MultiHeadMoeLayer::MultiHeadMoeLayer(const config::MoeConfig& config, int64_t dim, uint64_t seed, uint16_t layer,
                                     const MoeParallel& parallel)
    : inner(config, dim / config.heads(), seed, layer, parallel), heads_(config.heads()) {
  const float bound = std::sqrt(3.f / dim);
  head = RegisterParameter("head", RandomUniform({dim, dim}, RngKey{seed, 0, layer, 30}, -bound, bound));
  merge = RegisterParameter("merge", RandomUniform({dim, dim}, RngKey{seed, 1, layer, 30}, -bound, bound));
  RegisterModule("moe", &inner);
}

MoeOutput MultiHeadMoeLayer::Forward(const Tensor& x, uint32_t step, bool training, const Tensor& labels) const {
  const int64_t d = head.dim(0);
  const Tensor tokens = ops::Reshape(x, {-1, d});
  const Tensor sub_tokens = ops::Reshape(ops::MatMul(tokens, head), {-1, d / heads_});
  MoeOutput out = inner.Forward(sub_tokens, step, training, labels.defined() ? RepeatEach(labels, heads_) : labels);
  out.y = ops::Reshape(ops::MatMul(ops::Reshape(out.y, {-1, d}), merge), x.shape());
  return out;
}

HierarchicalMoeLayer::HierarchicalMoeLayer(const config::MoeConfig& config, int64_t dim, uint64_t seed, uint16_t layer)
    : outer_router(config.outer_router(), dim, config.groups(), seed, layer + 1000),
      inner_router(config.router(), dim, config.num_experts(), seed, layer),
      experts(config.num_experts(), dim, config.hidden(), ActivationKind(config.activation()), config.swiglu(), seed,
              layer),
      config_(config),
      dim_(dim) {
  RegisterModule("outer_router", &outer_router);
  RegisterModule("inner_router", &inner_router);
  RegisterModule("experts", &experts);
}

MoeOutput HierarchicalMoeLayer::Forward(const Tensor& x, uint32_t step, bool training, const Tensor& labels) const {
  const Tensor tokens = ops::Reshape(x, {-1, dim_});
  const int64_t t = tokens.dim(0), groups = config_.groups(), per_group = config_.num_experts() / groups;
  const Routing outer = outer_router.Route(tokens, step, training);
  const int64_t a = outer.token.numel(), k = config_.router().top_k();
  // Each (token, group) pick reads that group's slice of the inner logits and takes its top k there.
  const Tensor inner_logits = inner_router.SelectionLogits(tokens, step, training);
  std::vector<int64_t> rows(a);
  const std::vector<int64_t> outer_tokens = outer.token.ToIndices(), outer_groups = outer.expert.ToIndices();
  for (int64_t i = 0; i < a; ++i) rows[i] = outer_tokens[i] * groups + outer_groups[i];
  const TopKGates choice = TopKSoftmax(
      ops::IndexSelect(ops::Reshape(inner_logits, {t * groups, per_group}), Tensor::FromIndices(rows, {a})), k);
  // Slot-major over the inner choice: gate = inner gate x outer gate.
  Routing combined;
  combined.num_tokens = t;
  combined.num_experts = config_.num_experts();
  combined.gate = ops::Reshape(ops::Mul(ops::TransposeLast2(choice.gates), outer.gate), {k * a});
  const std::vector<int64_t> picked = choice.indices.ToIndices();
  std::vector<int64_t> tokens_out(k * a), experts_out(k * a);
  for (int64_t j = 0; j < k; ++j) {
    for (int64_t i = 0; i < a; ++i) {
      tokens_out[j * a + i] = outer_tokens[i];
      experts_out[j * a + i] = outer_groups[i] * per_group + picked[i * k + j];
    }
  }
  combined.token = Tensor::FromIndices(tokens_out, {k * a});
  combined.expert = Tensor::FromIndices(experts_out, {k * a});
  combined.logits = inner_logits;
  combined.probs = ops::Softmax(inner_logits);
  combined.routed = k * a;
  const Routing kept = ApplyCapacity(combined, CapacityFor(config_.router(), training,
                                                           config_.outer_router().top_k() * k, t, config_.num_experts()));
  const Tensor y = RunExperts(experts, tokens, kept);
  // Balance both levels: groups through the outer routing, experts through the combined one.
  const Tensor aux = ops::Add(AuxLoss(config_, outer), AuxLoss(config_, combined));
  return {ops::Reshape(y, x.shape()), aux, ComputeRoutingStats(kept, labels)};
}

std::unique_ptr<AnyMoeLayer> MakeMoeLayer(const config::MoeConfig& config, int64_t dim, uint64_t seed,
                                          uint16_t layer, const MoeParallel& parallel) {
  switch (config.layer()) {
    case config::MoeConfig::MH_MOE:
      return std::make_unique<MultiHeadMoeLayer>(config, dim, seed, layer, parallel);
    case config::MoeConfig::HIERARCHICAL:
      CHECK(parallel.tokens == nullptr) << "moe.layer HIERARCHICAL: not over a sharded batch yet";
      return std::make_unique<HierarchicalMoeLayer>(config, dim, seed, layer);
    default:
      return std::make_unique<MoeLayer>(config, dim, seed, layer, parallel);
  }
}

}  // namespace onemodel::moe
