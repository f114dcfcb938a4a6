#include "moe/capacity.h"

#include <cmath>
#include <vector>

#include "core/ops/indexing.h"

namespace onemodel::moe {

Routing SelectAssignments(const Routing& routing, const std::vector<int64_t>& keep) {
  Routing out = routing;
  const Tensor index = Tensor::FromIndices(keep, {static_cast<int64_t>(keep.size())});
  const std::vector<int64_t> tokens = routing.token.ToIndices(), experts = routing.expert.ToIndices();
  std::vector<int64_t> kept_tokens, kept_experts;
  for (int64_t i : keep) {
    kept_tokens.push_back(tokens[i]);
    kept_experts.push_back(experts[i]);
  }
  out.token = Tensor::FromIndices(kept_tokens, {index.numel()});
  out.expert = Tensor::FromIndices(kept_experts, {index.numel()});
  out.gate = ops::IndexSelect(routing.gate, index);
  return out;
}

int64_t ExpertCapacity(float capacity_factor, int64_t top_k, int64_t num_tokens, int64_t num_experts) {
  if (capacity_factor <= 0.f) return 0;
  return static_cast<int64_t>(std::ceil(capacity_factor * top_k * num_tokens / static_cast<double>(num_experts)));
}

Routing ApplyCapacity(const Routing& routing, int64_t capacity) {
  if (capacity <= 0) return routing;
  const std::vector<int64_t> experts = routing.expert.ToIndices();
  std::vector<int64_t> used(routing.num_experts, 0), keep;
  for (size_t i = 0; i < experts.size(); ++i) {
    if (used[experts[i]] < capacity) {
      ++used[experts[i]];
      keep.push_back(static_cast<int64_t>(i));
    }
  }
  if (keep.size() == experts.size()) return routing;
  return SelectAssignments(routing, keep);
}

}  // namespace onemodel::moe
