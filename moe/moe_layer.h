// The MoE layer family: MoE (router + capacity + dispatcher + experts + losses + statistics), Multi-Head
// MoE and hierarchical MoE. Each returns its output (same shape as the input, without the residual: the
// block that holds the layer adds it, which is also where dropped tokens pass through), the weighted sum of
// its auxiliary losses, and its routing statistics.
#ifndef ONEMODEL_MOE_MOE_LAYER_H_
#define ONEMODEL_MOE_MOE_LAYER_H_

#include <memory>

#include "configs/experiment.pb.h"
#include "core/module.h"
#include "distributed/communicator.h"
#include "moe/experts.h"
#include "moe/router.h"
#include "moe/routing_stats.h"

namespace onemodel::moe {

struct MoeOutput {
  Tensor y;         // [..., d]
  Tensor aux_loss;  // scalar: coefficients from the config times the router losses
  RoutingStats stats;
};

// The configured auxiliary losses of one routing, weighted and summed.
// With `tokens` (the ranks the batch is sharded over) the statistics are the whole batch's (moe/losses.h).
Tensor AuxLoss(const config::MoeConfig& config, const Routing& routing, distributed::Communicator* tokens = nullptr);


// How an MoE layer is spread over ranks: `experts` is its expert-parallel group (EP ranks, E / EP experts each);
// `tokens` the group its batch is sharded over (usually the world), which makes routing noise, capacity and the
// auxiliary losses those of the whole batch. Null: one process.
struct MoeParallel {
  distributed::Communicator* experts = nullptr;
  distributed::Communicator* tokens = nullptr;
};

// What the trunk holds at an MoE position: any of the three layers below, chosen by MoeConfig.layer.
class AnyMoeLayer : public Module {
 public:
  virtual MoeOutput Forward(const Tensor& x, uint32_t step, bool training, const Tensor& labels = Tensor()) const = 0;
};

// The config must have passed ValidateMoeConfig(config, dim).
std::unique_ptr<AnyMoeLayer> MakeMoeLayer(const config::MoeConfig& config, int64_t dim, uint64_t seed,
                                          uint16_t layer, const MoeParallel& parallel = {});

class MoeLayer : public AnyMoeLayer {
 public:
  // The config must have passed ValidateMoeConfig(config, dim). With an expert group of EP > 1 ranks, this rank
  // holds experts [rank * E / EP, (rank + 1) * E / EP) and tokens reach their experts through all-to-all
  // (distributed/expert_parallel.h); routing is computed on each rank's own tokens.
  MoeLayer(const config::MoeConfig& config, int64_t dim, uint64_t seed, uint16_t layer, MoeParallel parallel = {});
  // x [..., d]; `labels` [tokens] i64 (optional) feed the dispatch-entropy statistic.
  MoeOutput Forward(const Tensor& x, uint32_t step, bool training, const Tensor& labels = Tensor()) const override;

  Router router;
  FfnExperts experts;
  std::unique_ptr<Ffn> shared_expert;

 private:
  config::MoeConfig config_;
  int64_t dim_;
  MoeParallel parallel_;
};

// MH-MoE (Wu et al. 2024): x W_head, each token split into `heads` sub-tokens of d / heads routed on their
// own, merged back, then W_merge (both d x d).
class MultiHeadMoeLayer : public AnyMoeLayer {
 public:
  // With a sharded batch the sub-tokens are what is sharded and routed (parallel as for MoeLayer).
  MultiHeadMoeLayer(const config::MoeConfig& config, int64_t dim, uint64_t seed, uint16_t layer,
                    const MoeParallel& parallel = {});
  MoeOutput Forward(const Tensor& x, uint32_t step, bool training, const Tensor& labels = Tensor()) const override;

  Tensor head, merge;
  MoeLayer inner;

 private:
  int64_t heads_;
};

// Two-level MoE: an outer router picks groups (top-k of `groups`), each picked group's own gate picks
// experts inside it; an expert's gate is outer gate x inner gate. Softmax or Laplace at each level.
class HierarchicalMoeLayer : public AnyMoeLayer {
 public:
  HierarchicalMoeLayer(const config::MoeConfig& config, int64_t dim, uint64_t seed, uint16_t layer);
  MoeOutput Forward(const Tensor& x, uint32_t step, bool training, const Tensor& labels = Tensor()) const override;

  Router outer_router;
  Router inner_router;  // selection logits (noisy in training for noisy top-k) for all experts, read per group
  FfnExperts experts;

 private:
  config::MoeConfig config_;
  int64_t dim_;
};

}  // namespace onemodel::moe

#endif  // ONEMODEL_MOE_MOE_LAYER_H_
