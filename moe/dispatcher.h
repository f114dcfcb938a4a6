// Token dispatcher: sorts the (token, expert) assignments by expert, gathers the tokens into contiguous
// per-expert blocks (what the experts' grouped GEMM and, later, the expert-parallel all-to-all consume),
// and scatter-adds the expert outputs back weighted by the gates. Never a dense T x E x C one-hot.
#ifndef ONEMODEL_MOE_DISPATCHER_H_
#define ONEMODEL_MOE_DISPATCHER_H_

#include <vector>

#include "moe/routing.h"

namespace onemodel::moe {

struct DispatchPlan {
  Tensor token_of_row;                   // [A] i64: the token in each row of the expert blocks
  Tensor gate_of_row;                    // [A] f32, differentiable
  std::vector<int64_t> rows_per_expert;  // [E], adds up to A
  int64_t num_tokens = 0;
};

// Stable sort by expert: within an expert, rows keep the routing's order.
DispatchPlan PlanDispatch(const Routing& routing);

// x [T, d] -> rows [A, d] grouped by expert.
Tensor Dispatch(const Tensor& x, const DispatchPlan& plan);

// expert outputs [A, d] -> [T, d]: out[token] += gate * row. Tokens with no row get zeros.
Tensor Combine(const Tensor& expert_out, const DispatchPlan& plan);

}  // namespace onemodel::moe

#endif  // ONEMODEL_MOE_DISPATCHER_H_
