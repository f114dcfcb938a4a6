#include "moe/capacity.h"

#include "gtest/gtest.h"

namespace onemodel::moe {
namespace {

Routing Assignments(const std::vector<int64_t>& tokens, const std::vector<int64_t>& experts, int64_t num_experts) {
  Routing r;
  const int64_t a = static_cast<int64_t>(tokens.size());
  r.token = Tensor::FromIndices(tokens, {a});
  r.expert = Tensor::FromIndices(experts, {a});
  std::vector<float> gates(a);
  for (int64_t i = 0; i < a; ++i) gates[i] = 0.1f * (i + 1);
  r.gate = Tensor::FromVector(gates, {a});
  r.num_tokens = 4;
  r.num_experts = num_experts;
  r.routed = a;
  return r;
}

TEST(CapacityTest, Formula) {
  EXPECT_EQ(ExpertCapacity(1.25f, 2, 4096, 8), 1280);  // ceil(1.25 * 2 * 4096 / 8)
  EXPECT_EQ(ExpertCapacity(1.0f, 1, 10, 4), 3);        // ceil(2.5)
  EXPECT_EQ(ExpertCapacity(0.f, 2, 100, 4), 0);        // dropless
  EXPECT_EQ(ExpertCapacity(-1.f, 2, 100, 4), 0);
}

TEST(CapacityTest, KeepsTheFirstAssignmentsPerExpertInPriorityOrder) {
  // Slot-major: first choices of tokens 0..3, then second choices.
  const Routing r = Assignments({0, 1, 2, 3, 0, 1, 2, 3}, {0, 0, 0, 1, 1, 1, 0, 2}, 3);
  const Routing kept = ApplyCapacity(r, 2);
  EXPECT_EQ(kept.token.ToIndices(), (std::vector<int64_t>{0, 1, 3, 0, 3}));
  EXPECT_EQ(kept.expert.ToIndices(), (std::vector<int64_t>{0, 0, 1, 1, 2}));
  EXPECT_EQ(kept.gate.ToVector(), (std::vector<float>{0.1f, 0.2f, 0.4f, 0.5f, 0.8f}));
  EXPECT_EQ(kept.routed, 8);
  EXPECT_EQ(ApplyCapacity(r, 0).token.numel(), 8);  // dropless keeps everything
}

}  // namespace
}  // namespace onemodel::moe
