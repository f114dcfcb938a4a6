// Run by run_mpi_test.sh under mpirun with 1, 2 and 4 ranks: an MoE layer trained with its experts sharded over
// EP ranks (tokens exchanged by all-to-all) and its tokens sharded over all ranks (EP x DP layouts: every divisor
// of the world size) follows the same outputs, losses and parameters as the same layer trained on the whole
// batch in one process — computed on every rank alone as the reference. Routing noise, jitter, capacity with
// token dropping and every auxiliary loss included: they are computed over the whole batch.

#include "configs/config.h"
#include "core/ops/ops.h"
#include "core/optim.h"
#include "core/rng.h"
#include "distributed/collectives.h"
#include "distributed/expert_parallel.h"
#include "distributed/mpi_communicator.h"
#include "gtest/gtest.h"
#include "moe/moe_layer.h"

namespace onemodel::distributed {
namespace {

constexpr int64_t kTokens = 16, kDim = 6;

config::MoeConfig Config(const std::string& router, bool swiglu) {
  absl::StatusOr<config::Experiment> c = ParseExperiment(
      "moe { num_experts: 8 hidden: 8 activation: GELU load_balance_coef: 0.01 z_loss_coef: 0.001 "
      "importance_coef: 0.01 load_coef: 0.01 router { " + router + " } }", "test");
  CHECK(c.ok()) << c.status();
  c->mutable_moe()->set_swiglu(swiglu);
  return c->moe();
}

// Routers with their randomness on and a capacity that drops tokens (cf 1: about a tenth here), and dropless.
const char* kRouters[] = {
    "kind: NOISY_TOP_K top_k: 2 noise: true capacity_factor_train: 1.0",
    "kind: SWITCH jitter: 0.1 capacity_factor_train: 1.0",
    "kind: GSHARD top_k: 2 capacity_factor_train: 1.0",
    "kind: NOISY_TOP_K top_k: 2 noise: true capacity_factor_train: 0",
};

Tensor Mse(const Tensor& y, const Tensor& t) { return ops::MeanAll(ops::Mul(ops::Sub(y, t), ops::Sub(y, t))); }

void CheckLayout(int expert_parallel, const std::string& router, bool swiglu) {
  Communicator& world = MpiWorld();
  const int n = world.size(), r = world.rank();
  absl::StatusOr<ProcessGroups> groups = MakeProcessGroups(world, expert_parallel);
  ASSERT_TRUE(groups.ok()) << groups.status();
  moe::MoeLayer whole(Config(router, swiglu), kDim, 3, 1);
  moe::MoeLayer sharded(Config(router, swiglu), kDim, 3, 1, {groups->expert.get(), &world});
  const int64_t local = 8 / expert_parallel, first = groups->expert_rank() * local;
  ASSERT_EQ(sharded.experts.w_in.dim(0), local);
  Sgd whole_sgd(whole.NamedParameters(), {}), sharded_sgd(sharded.NamedParameters(), {});
  const int64_t begin = kTokens * r / n, end = kTokens * (r + 1) / n;
  double dropped = 0;
  for (int step = 1; step <= 3; ++step) {
    const Tensor x = RandomNormal({kTokens, kDim}, RngKey{9, static_cast<uint32_t>(step), 1, 1});
    const Tensor target = RandomNormal({kTokens, kDim}, RngKey{9, static_cast<uint32_t>(step), 2, 1});
    whole_sgd.ZeroGrad();
    const moe::MoeOutput out_whole = whole.Forward(x, step, true);
    dropped += out_whole.stats.drop_rate;
    ops::Add(Mse(out_whole.y, target), out_whole.aux_loss).Backward();
    whole_sgd.Step(0.2f);

    sharded_sgd.ZeroGrad();
    const moe::MoeOutput out = sharded.Forward(ops::Slice(x, begin, end), step, true);
    const std::vector<float> got = out.y.ToVector(), want = ops::Slice(out_whole.y, begin, end).ToVector();
    for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5) << "step " << step << " value " << i;
    ASSERT_NEAR(out.aux_loss.item(), out_whole.aux_loss.item(), 1e-5 * (1 + std::abs(out_whole.aux_loss.item())));
    // Each rank's loss: its tokens' mean error plus the (whole-batch) aux loss; the gradient sync averages.
    ops::Add(Mse(out.y, ops::Slice(target, begin, end)), out.aux_loss).Backward();
    ASSERT_TRUE(SyncGradients(*groups, sharded.NamedParameters()).ok());
    sharded_sgd.Step(0.2f);
  }
  if (router.find("capacity_factor_train: 1.0") != std::string::npos) {
    EXPECT_GT(dropped, 0) << "the capacity case should drop tokens";
  }
  std::map<std::string, Tensor> reference;
  for (const auto& [name, t] : whole.NamedParameters()) reference[name] = t;
  for (const auto& [name, t] : sharded.NamedParameters()) {
    const Tensor want = IsExpertParameter(name) ? ops::Slice(reference.at(name), first, first + local) : reference.at(name);
    const std::vector<float> a = t.ToVector(), b = want.ToVector();
    ASSERT_EQ(a.size(), b.size()) << name;
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5 * (1 + std::abs(b[i]))) << name << " " << i;
  }
}

TEST(ExpertParallelTest, EveryLayoutTrainsLikeOneProcess) {
  const int n = MpiWorld().size();
  for (int ep = 1; ep <= n; ++ep) {
    if (n % ep != 0) continue;
    for (const char* router : kRouters) {
      SCOPED_TRACE(testing::Message() << "EP " << ep << " x DP " << n / ep << ", router " << router);
      CheckLayout(ep, router, /*swiglu=*/false);
    }
    CheckLayout(ep, kRouters[0], /*swiglu=*/true);
  }
}

TEST(ExpertParallelTest, RowsComeBackInOrderFromTheirExperts) {
  // Expert e multiplies by (e + 1): a row's output names the expert that ran it, wherever that expert lives.
  Communicator& world = MpiWorld();
  const int n = world.size(), r = world.rank();
  const int64_t experts = 2 * n;
  std::vector<int64_t> counts(experts);
  std::vector<float> values;
  std::vector<float> want;
  for (int64_t e = 0; e < experts; ++e) {
    counts[e] = (e + r) % 3;
    for (int64_t i = 0; i < counts[e]; ++i) {
      values.push_back(100.f * r + i);
      want.push_back((100.f * r + i) * (e + 1));
    }
  }
  const Tensor rows = Tensor::FromVector(values, {static_cast<int64_t>(values.size()), 1});
  const Tensor out = ExpertParallel(world, rows, counts, [&](const Tensor& local, const std::vector<int64_t>& per) {
    std::vector<float> v = local.ToVector();
    size_t at = 0;
    for (size_t j = 0; j < per.size(); ++j) {
      for (int64_t i = 0; i < per[j]; ++i) v[at++] *= static_cast<float>(r * per.size() + j + 1);
    }
    return Tensor::FromVector(v, local.shape());
  });
  EXPECT_EQ(out.ToVector(), want);
}

}  // namespace
}  // namespace onemodel::distributed
