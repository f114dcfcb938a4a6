// Routers (gates): token representations -> expert assignments with differentiable gate values.
// Kinds (configs/experiment.proto RouterConfig): noisy top-k softmax, Switch top-1, GShard top-2,
// Laplace, expert choice. The router's math is f32; its random numbers come from the counter-based RNG.
#ifndef ONEMODEL_MOE_ROUTER_H_
#define ONEMODEL_MOE_ROUTER_H_

#include "configs/experiment.pb.h"
#include "core/module.h"
#include "core/rng.h"
#include "moe/routing.h"

namespace onemodel::moe {

struct TopKGates {
  Tensor indices;  // [N, k] i64, descending by logit
  Tensor gates;    // [N, k] softmax over the kept logits, differentiable
};
// Top-k of each row of logits [N, E], gates = softmax over the k kept values (Shazeer; Laplace).
TopKGates TopKSoftmax(const Tensor& logits, int64_t k);

// Lays [T, k] choices out as slot-major assignments (all first choices, then all second ones, ...).
Routing FromTopK(const TopKGates& choice, int64_t num_experts);

class Router : public Module {
 public:
  // `seed` and `layer` key the initial weights and the routing noise.
  Router(const config::RouterConfig& config, int64_t dim, int64_t num_experts, uint64_t seed, uint16_t layer);

  // x [T, d] -> assignments (before capacity, except expert choice, whose capacity is its definition).
  // `step` keys the noise; noise and jitter apply only in training. `token_offset` is the global index of x's
  // first token when the batch is sharded over ranks: a token draws the same noise on any layout.
  Routing Route(const Tensor& x, uint32_t step, bool training, uint64_t token_offset = 0) const;

  // The router logits alone: x Wg (noisy top-k, Switch, GShard, expert choice) or -||x - w_i|| + b_i (Laplace).
  Tensor Logits(const Tensor& x) const;
  // The logits experts are selected on: for noisy top-k in training, clean + N(0,1) * (softplus(x Wn) + eps)
  // (`noise_std`, if given, receives the noise scale); otherwise Logits(x).
  Tensor SelectionLogits(const Tensor& x, uint32_t step, bool training, Tensor* noise_std = nullptr,
                         uint64_t token_offset = 0) const;

  const config::RouterConfig& config() const { return config_; }
  int64_t num_experts() const { return num_experts_; }

 private:
  Routing NoisyTopK(const Tensor& x, uint32_t step, bool training, uint64_t token_offset) const;
  Routing Switch(const Tensor& x, uint32_t step, bool training, uint64_t token_offset) const;
  Routing GShard(const Tensor& x, uint32_t step, bool training, uint64_t token_offset) const;
  Routing ExpertChoice(const Tensor& x, bool training) const;

  config::RouterConfig config_;
  int64_t num_experts_;
  uint64_t seed_;
  uint16_t layer_;
  Tensor weight_;        // [d, E]; Laplace: expert centers [E, d]
  Tensor noise_weight_;  // [d, E], noisy top-k only
  Tensor bias_;          // [E], Laplace only
};

}  // namespace onemodel::moe

#endif  // ONEMODEL_MOE_ROUTER_H_
