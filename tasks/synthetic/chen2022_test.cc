// A reduced reproduction of Chen et al. 2022 (a quarter of the data, one seed): the paper's claims must
// already show. The full run is `onemodel repro chen2022` (5 seeds, DESIGN §5 setting).
#include "tasks/synthetic/chen2022.h"

#include "gtest/gtest.h"

namespace onemodel::synthetic {
namespace {

config::Chen2022Config Reduced() {
  config::Chen2022Config c;
  c.mutable_data()->set_train_size(4000);
  c.mutable_data()->set_test_size(4000);
  c.set_single_epochs(401);
  return c;
}

TEST(Chen2022Test, MoeWithNonlinearExpertsLearnsTheClusterStructure) {
  const config::Chen2022Config c = Reduced();
  auto data = MakeClusterDataset(c.data(), 7);
  ASSERT_TRUE(data.ok()) << data.status();
  const ChenRun moe_cubic = TrainChenModel(ChenModel::kMoeCubic, c, *data, 7);
  const ChenRun moe_linear = TrainChenModel(ChenModel::kMoeLinear, c, *data, 7);
  const ChenRun single_cubic = TrainChenModel(ChenModel::kSingleCubic, c, *data, 7);
  // The paper's claims: cubic experts specialize by cluster (near-zero dispatch entropy) and solve the task;
  // linear experts do not specialize; a single cubic expert cannot solve it.
  EXPECT_GE(moe_cubic.test_accuracy, 0.98);
  EXPECT_LE(moe_cubic.dispatch_entropy, 0.25);
  EXPECT_GE(moe_linear.dispatch_entropy, 1.0);
  EXPECT_LE(single_cubic.test_accuracy, 0.875);
  EXPECT_GT(moe_cubic.test_accuracy, single_cubic.test_accuracy + 0.1);
}

}  // namespace
}  // namespace onemodel::synthetic
