// Auxiliary router losses (all scalars, differentiable through the router). With `tokens` (the group of ranks the
// batch is sharded over), every statistic is taken over the whole batch — counts and sums are added up over the
// ranks, differentiably — so each rank's loss equals the one-process loss of the whole batch.
#ifndef ONEMODEL_MOE_LOSSES_H_
#define ONEMODEL_MOE_LOSSES_H_

#include "distributed/communicator.h"

#include "moe/routing.h"

namespace onemodel::moe {

// Switch Transformer: E * sum_e f_e * P_e, f_e = fraction of routed assignments to expert e (a constant),
// P_e = mean router probability of e. 1 when perfectly balanced.
Tensor SwitchLoadBalanceLoss(const Routing& routing, distributed::Communicator* tokens = nullptr);

// Squared coefficient of variation, var / mean^2 over the entries of v (Shazeer et al.'s balance losses).
Tensor CoefficientOfVariationSquared(const Tensor& v);

// Shazeer et al.: CV^2 of importance (the sum of gate values per expert).
Tensor ImportanceLoss(const Routing& routing, distributed::Communicator* tokens = nullptr);

// Shazeer et al.: CV^2 of the smooth load estimate; needs routing.load_estimate.
Tensor LoadLoss(const Routing& routing, distributed::Communicator* tokens = nullptr);

// Router z-loss (ST-MoE): mean over tokens of logsumexp(logits)^2.
Tensor ZLoss(const Routing& routing, distributed::Communicator* tokens = nullptr);

}  // namespace onemodel::moe

#endif  // ONEMODEL_MOE_LOSSES_H_
