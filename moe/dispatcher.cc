#include "moe/dispatcher.h"

#include "core/ops/ops.h"

namespace onemodel::moe {

DispatchPlan PlanDispatch(const Routing& routing) {
  const std::vector<int64_t> tokens = routing.token.ToIndices(), experts = routing.expert.ToIndices();
  const int64_t a = static_cast<int64_t>(experts.size());
  DispatchPlan plan;
  plan.num_tokens = routing.num_tokens;
  plan.rows_per_expert.assign(routing.num_experts, 0);
  for (int64_t e : experts) ++plan.rows_per_expert[e];
  // Counting sort: row offsets per expert, then place each assignment in order.
  std::vector<int64_t> next(routing.num_experts, 0);
  for (int64_t e = 1; e < routing.num_experts; ++e) next[e] = next[e - 1] + plan.rows_per_expert[e - 1];
  std::vector<int64_t> order(a), token_of_row(a);
  for (int64_t i = 0; i < a; ++i) {
    const int64_t row = next[experts[i]]++;
    order[row] = i;
    token_of_row[row] = tokens[i];
  }
  plan.token_of_row = Tensor::FromIndices(token_of_row, {a});
  plan.gate_of_row = ops::IndexSelect(routing.gate, Tensor::FromIndices(order, {a}));
  return plan;
}

Tensor Dispatch(const Tensor& x, const DispatchPlan& plan) { return ops::IndexSelect(x, plan.token_of_row); }

Tensor Combine(const Tensor& expert_out, const DispatchPlan& plan) {
  return ops::WeightedScatterAddRows(expert_out, plan.gate_of_row, plan.token_of_row, plan.num_tokens);
}

}  // namespace onemodel::moe
