// Expert capacity: C = ceil(cf * k * T / E) assignments per expert; the rest are dropped in priority order
// (dropped tokens get no expert output and pass through the layer's residual). cf <= 0 means dropless.
#ifndef ONEMODEL_MOE_CAPACITY_H_
#define ONEMODEL_MOE_CAPACITY_H_

#include "distributed/communicator.h"

#include <cstdint>

#include "moe/routing.h"

namespace onemodel::moe {

// 0 means unlimited (dropless).
int64_t ExpertCapacity(float capacity_factor, int64_t top_k, int64_t num_tokens, int64_t num_experts);

// Drops the assignments past each expert's capacity, keeping the routing's order.
Routing ApplyCapacity(const Routing& routing, int64_t capacity);

// The same over a batch sharded across the ranks of `tokens` (rank order = token order): an assignment is kept
// when fewer than `capacity` assignments to its expert precede it in the whole batch's priority order (all
// tokens' first choices, then all second choices, ...), so exactly the one-process choices are kept.
Routing ApplyCapacity(const Routing& routing, int64_t capacity, int64_t top_k, distributed::Communicator* tokens);

}  // namespace onemodel::moe

#endif  // ONEMODEL_MOE_CAPACITY_H_
