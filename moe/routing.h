// What a router decides, as flat lists of (token, expert, gate) assignments. Token-choice routers list
// them slot-major (every token's first choice, then every second choice, ...), which is also the priority
// order when capacity drops assignments. Expert-choice routers list them expert-major.
#ifndef ONEMODEL_MOE_ROUTING_H_
#define ONEMODEL_MOE_ROUTING_H_

#include <cstdint>

#include "core/tensor.h"

namespace onemodel::moe {

struct Routing {
  Tensor token;          // [A] i64
  Tensor expert;         // [A] i64
  Tensor gate;           // [A] f32, differentiable: the weight of the expert's output for that token
  Tensor logits;         // [T, E] router logits (z-loss), differentiable
  Tensor probs;          // [T, E] softmax over all experts (Switch load balancing), differentiable
  Tensor load_estimate;  // [E] Shazeer's smooth load estimate (noisy top-k in training); may be undefined
  int64_t num_tokens = 0;
  int64_t num_experts = 0;
  int64_t routed = 0;    // assignments before capacity was applied (A after it is token.numel())
};

// Keeps assignments[i] for i in `keep` (ascending), with their gates' gradients.
Routing SelectAssignments(const Routing& routing, const std::vector<int64_t>& keep);

}  // namespace onemodel::moe

#endif  // ONEMODEL_MOE_ROUTING_H_
