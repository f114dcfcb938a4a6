// Run by run_mpi_test.sh under mpirun with 1, 2 and 4 ranks: the differentiable collectives and data-parallel
// gradient averaging, each rank checking against values it can compute alone.
#include <random>

#include "configs/config.h"
#include "core/ops/ops.h"
#include "core/optim.h"
#include "distributed/collectives.h"
#include "distributed/mpi_communicator.h"
#include "gtest/gtest.h"
#include "moe/moe_layer.h"

namespace onemodel::distributed {
namespace {

// Rank s sends d + 1 rows to rank d; row i of that block holds (s, d, i, 0.5).
TEST(CollectivesTest, AllToAllRowsDeliversRowsInRankOrder) {
  Communicator& world = MpiWorld();
  const int n = world.size(), r = world.rank();
  std::vector<float> values;
  std::vector<int64_t> counts;
  for (int d = 0; d < n; ++d) {
    counts.push_back(d + 1);
    for (int i = 0; i <= d; ++i) values.insert(values.end(), {float(r), float(d), float(i), 0.5f});
  }
  std::vector<int64_t> received;
  const Tensor out = AllToAllRows(world, Tensor::FromVector(values, {static_cast<int64_t>(values.size() / 4), 4}),
                                  counts, &received);
  ASSERT_EQ(out.dim(0), int64_t{n} * (r + 1));
  const std::vector<float> got = out.ToVector();
  size_t at = 0;
  for (int s = 0; s < n; ++s) {
    EXPECT_EQ(received[s], r + 1);
    for (int i = 0; i <= r; ++i, at += 4) {
      EXPECT_EQ(got[at], s);
      EXPECT_EQ(got[at + 1], r);
      EXPECT_EQ(got[at + 2], i);
    }
  }
}

// loss_r = <AllToAllRows(x_r), w_r>: the exchange is linear, so sum_r <grad x_r, x_r> = sum_r loss_r exactly when the
// backward pass is the transposed exchange.
TEST(CollectivesTest, AllToAllRowsBackwardIsTheReverseExchange) {
  Communicator& world = MpiWorld();
  const int n = world.size(), r = world.rank();
  std::mt19937 rng(100 + r);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<int64_t> counts(n);
  int64_t rows = 0;
  for (int d = 0; d < n; ++d) rows += counts[d] = (r * 3 + d * 5) % 4;
  std::vector<float> xv(rows * 3);
  for (float& v : xv) v = u(rng);
  const Tensor x = Tensor::FromVector(xv, {rows, 3}).set_requires_grad(true);
  const Tensor y = AllToAllRows(world, x, counts);
  std::vector<float> wv(y.numel());
  for (float& v : wv) v = u(rng);
  const Tensor loss = ops::SumAll(ops::Mul(y, Tensor::FromVector(wv, y.shape())));
  loss.Backward();
  double sums[2] = {loss.item(), 0};
  const std::vector<float> g = x.grad().defined() ? x.grad().ToVector() : std::vector<float>();
  for (size_t i = 0; i < g.size(); ++i) sums[1] += static_cast<double>(g[i]) * xv[i];
  ASSERT_TRUE(world.AllReduceSum(sums, 2).ok());
  EXPECT_NEAR(sums[0], sums[1], 1e-4 * (1 + std::abs(sums[0])));
}

TEST(CollectivesTest, AllReduceSumGradientAddsOverRanks) {
  Communicator& world = MpiWorld();
  const int n = world.size(), r = world.rank();
  const Tensor x = Tensor::FromVector({1.f * r, 2.f}, {2}).set_requires_grad(true);
  const Tensor total = AllReduceSum(world, x);
  EXPECT_EQ(total.ToVector()[0], n * (n - 1) / 2.f);
  // loss_r = (r + 1) * total[0]: the gradient of the summed loss reaches x[0] on every rank as sum (r + 1).
  ops::Scale(ops::Narrow(total, 0, 0, 1), r + 1.f).Backward();
  EXPECT_EQ(x.grad().ToVector()[0], n * (n + 1) / 2.f);
  EXPECT_EQ(x.grad().ToVector()[1], 0.f);
}

TEST(CollectivesTest, AverageGradientsIncludingParametersWithoutOne) {
  Communicator& world = MpiWorld();
  const int n = world.size(), r = world.rank();
  Tensor a = Tensor::Zeros({3}).set_requires_grad(true), b = Tensor::Zeros({2, 2}).set_requires_grad(true);
  a.AccumulateGrad(Tensor::FromVector({1.f * r, 1.f, -2.f * r}, {3}));
  if (r == 0) b.AccumulateGrad(Tensor::Full({2, 2}, 4.f));  // only rank 0 used b this step
  ASSERT_TRUE(AverageGradients(world, {{"a", a}, {"b", b}}, /*bucket_bytes=*/8).ok());  // several buckets
  EXPECT_FLOAT_EQ(a.grad().ToVector()[0], (n - 1) / 2.f);
  EXPECT_FLOAT_EQ(a.grad().ToVector()[1], 1.f);
  EXPECT_FLOAT_EQ(a.grad().ToVector()[2], -(n - 1.f));
  for (float v : b.grad().ToVector()) EXPECT_FLOAT_EQ(v, 4.f / n);
}

// Data parallelism is exact: a dropless MoE layer trained on a shard per rank with averaged gradients follows the
// same parameters as the same layer trained on the whole batch (computed here on every rank, alone).
TEST(CollectivesTest, DataParallelMoeTrainingEqualsTheWholeBatch) {
  Communicator& world = MpiWorld();
  const int n = world.size(), r = world.rank();
  absl::StatusOr<config::Experiment> c = ParseExperiment(
      "moe { num_experts: 4 hidden: 8 load_balance_coef: 0 z_loss_coef: 0 "
      "router { kind: NOISY_TOP_K top_k: 2 noise: false capacity_factor_train: 0 } }", "test");
  ASSERT_TRUE(c.ok());
  moe::MoeLayer whole(c->moe(), 6, 1, 1), sharded(c->moe(), 6, 1, 1);
  Sgd whole_sgd(whole.NamedParameters(), {}), sharded_sgd(sharded.NamedParameters(), {});
  constexpr int64_t kTokens = 8;
  for (int step = 1; step <= 4; ++step) {
    const Tensor x = RandomNormal({kTokens, 6}, RngKey{7, static_cast<uint32_t>(step), 1, 1});
    const Tensor target = RandomNormal({kTokens, 6}, RngKey{7, static_cast<uint32_t>(step), 2, 1});
    auto mse = [](const Tensor& y, const Tensor& t) { return ops::MeanAll(ops::Mul(ops::Sub(y, t), ops::Sub(y, t))); };
    whole_sgd.ZeroGrad();
    mse(whole.Forward(x, step, true).y, target).Backward();
    whole_sgd.Step(0.1f);
    const int64_t begin = kTokens * r / n, end = kTokens * (r + 1) / n;
    sharded_sgd.ZeroGrad();
    mse(sharded.Forward(ops::Slice(x, begin, end), step, true).y, ops::Slice(target, begin, end)).Backward();
    ASSERT_TRUE(AverageGradients(world, sharded.NamedParameters()).ok());
    sharded_sgd.Step(0.1f);
  }
  const NamedTensors a = whole.NamedParameters(), b = sharded.NamedParameters();
  for (size_t i = 0; i < a.size(); ++i) {
    const std::vector<float> va = a[i].second.ToVector(), vb = b[i].second.ToVector();
    for (size_t j = 0; j < va.size(); ++j) EXPECT_NEAR(va[j], vb[j], 1e-5 * (1 + std::abs(va[j]))) << a[i].first;
  }
}

}  // namespace
}  // namespace onemodel::distributed
