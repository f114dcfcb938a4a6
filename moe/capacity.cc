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

Routing ApplyCapacity(const Routing& routing, int64_t capacity, int64_t top_k, distributed::Communicator* tokens) {
  if (tokens == nullptr || tokens->size() == 1) return ApplyCapacity(routing, capacity);
  if (capacity <= 0) return routing;
  const int64_t e_count = routing.num_experts, ranks = tokens->size(), me = tokens->rank();
  // Assignments are slot-major (all tokens' first choices, then the second ones, ...) with tokens ascending in a
  // slot: a new slot starts where the token index stops increasing.
  const std::vector<int64_t> experts = routing.expert.ToIndices(), token = routing.token.ToIndices();
  std::vector<int64_t> slot(experts.size());
  for (size_t i = 0, s = 0; i < experts.size(); ++i) {
    if (i > 0 && token[i] <= token[i - 1]) ++s;
    CHECK_LT(static_cast<int64_t>(s), top_k) << "ApplyCapacity: routing is not slot-major";
    slot[i] = static_cast<int64_t>(s);
  }
  // Every rank's (slot, expert) counts, to place this rank's assignments in the global order.
  std::vector<int64_t> counts(ranks * top_k * e_count, 0);
  for (size_t i = 0; i < experts.size(); ++i) ++counts[(me * top_k + slot[i]) * e_count + experts[i]];
  CHECK(tokens->AllReduceSum(counts.data(), static_cast<int64_t>(counts.size())).ok()) << "capacity counts";
  // position[s][e]: assignments to e before this rank's slot-s ones = all ranks' earlier slots + earlier ranks.
  std::vector<int64_t> position(top_k * e_count, 0);
  for (int64_t s = 0; s < top_k; ++s) {
    for (int64_t e = 0; e < e_count; ++e) {
      int64_t before = 0;
      for (int64_t q = 0; q < ranks; ++q) {
        for (int64_t s2 = 0; s2 < top_k; ++s2) {
          if (s2 < s || (s2 == s && q < me)) before += counts[(q * top_k + s2) * e_count + e];
        }
      }
      position[s * e_count + e] = before;
    }
  }
  std::vector<int64_t> keep;
  for (size_t i = 0; i < experts.size(); ++i) {
    if (position[slot[i] * e_count + experts[i]]++ < capacity) keep.push_back(static_cast<int64_t>(i));
  }
  if (keep.size() == experts.size()) return routing;
  return SelectAssignments(routing, keep);
}

}  // namespace onemodel::moe
