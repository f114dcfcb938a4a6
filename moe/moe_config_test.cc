#include "moe/moe_config.h"

#include "configs/config.h"
#include "gtest/gtest.h"

namespace onemodel::moe {
namespace {

absl::Status Validate(const std::string& text, int64_t dim = 8) {
  auto e = ParseExperiment("moe { " + text + " }", "test.pbtxt");
  if (!e.ok()) return e.status();
  return ValidateMoeConfig(e->moe(), dim);
}

void ExpectError(const std::string& text, const std::string& expected) {
  const absl::Status s = Validate(text);
  ASSERT_FALSE(s.ok()) << text;
  EXPECT_NE(s.message().find(expected), std::string::npos) << text << " -> " << s;
}

TEST(MoeConfigTest, DefaultsAndEveryLayerKindAreValid) {
  EXPECT_TRUE(Validate("").ok());
  EXPECT_TRUE(Validate("layer: MH_MOE heads: 4").ok());
  EXPECT_TRUE(Validate("layer: HIERARCHICAL groups: 2 outer_router { top_k: 1 } router { kind: LAPLACE top_k: 2 }").ok());
  EXPECT_TRUE(Validate("router { kind: SWITCH top_k: 1 jitter: 0.01 }").ok());
  EXPECT_TRUE(Validate("router { kind: EXPERT_CHOICE }").ok());
}

TEST(MoeConfigTest, BadValuesNameTheField) {
  ExpectError("num_experts: 2 router { top_k: 3 }", "moe.router.top_k: 3 must be in [1, moe.num_experts = 2]");
  ExpectError("layer: MH_MOE heads: 3", "moe.heads: 3 must divide the model dim 8");
  ExpectError("load_balance_coef: -0.1", "moe.load_balance_coef");
  ExpectError("z_loss_coef: -1", "moe.z_loss_coef");
  ExpectError("router { kind: SWITCH top_k: 2 }", "moe.router.top_k");
  ExpectError("router { kind: GSHARD top_k: 1 }", "moe.router.top_k");
  ExpectError("layer: HIERARCHICAL groups: 3", "moe.groups");
  ExpectError("layer: HIERARCHICAL groups: 2 router { kind: SWITCH top_k: 1 }", "moe.router.kind");
  ExpectError("layer: HIERARCHICAL groups: 2 outer_router { top_k: 3 }", "moe.outer_router.top_k");
  ExpectError("router { kind: EXPERT_CHOICE capacity_factor_train: 0 }", "moe.router.capacity_factor_train");
  ExpectError("load_coef: 0.1 router { kind: LAPLACE }", "moe.load_coef");
  ExpectError("hidden: 0", "moe.hidden");
}

TEST(MoeConfigTest, UnknownRouterNameIsAParseErrorNamingIt) {
  const absl::Status s = Validate("router { kind: SOFTMOE }");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("SOFTMOE"), std::string::npos) << s;
  EXPECT_NE(s.message().find("test.pbtxt:1:"), std::string::npos) << s;
}

}  // namespace
}  // namespace onemodel::moe
