// Run by run_mpi_test.sh under mpirun with 1, 2 and 4 ranks: the whole MultiModel (image and symbol modality nets,
// encoder, mixer, decoder; noisy top-k MoE in the encoder, Multi-Head MoE in the decoder, token dropping and
// auxiliary losses on) trained with each batch sharded over the ranks and its experts over every EP x DP layout
// gives, at every step, the whole-batch loss (the mean of the ranks' shard losses) and, at the end, the parameters
// of the same model trained on the whole batch in one process — computed on every rank alone as the reference.

#include "configs/config.h"
#include "core/ops/ops.h"
#include "core/optim.h"
#include "core/rng.h"
#include "distributed/collectives.h"
#include "distributed/mpi_communicator.h"
#include "gtest/gtest.h"
#include "model/multimodel.h"

namespace onemodel::distributed {
namespace {

constexpr int64_t kBatch = 8, kLength = 5;

config::TrunkConfig Trunk() {
  absl::StatusOr<config::Experiment> c = ParseExperiment(R"pb(
    model {
      dim: 16 heads: 2 image_channels: 4
      encoder_moe { num_experts: 4 hidden: 16 importance_coef: 0.01
                    router { kind: NOISY_TOP_K top_k: 2 capacity_factor_train: 1.0 } }
      decoder_moe { layer: MH_MOE heads: 2 num_experts: 4 hidden: 16
                    router { kind: SWITCH jitter: 0.1 capacity_factor_train: 1.25 } }
    })pb", "test");
  CHECK(c.ok()) << c.status();
  return c->model();
}

std::vector<model::TaskHead> Heads() {
  return {{"image", model::InputModality::kImage, model::OutputModality::kClassLabel, 4, "", 0},
          {"copy", model::InputModality::kSymbols, model::OutputModality::kSymbols, 0, "words", 12}};
}

// The whole batch of step `step` (image task on odd steps, copy task on even ones).
model::Batch WholeBatch(int step) {
  model::Batch b;
  std::vector<int64_t> labels(kBatch);
  if (step % 2 == 1) {
    b.images = RandomUniform({kBatch, 12, 12}, RngKey{4, static_cast<uint32_t>(step), 1, 1});
    for (int64_t i = 0; i < kBatch; ++i) labels[i] = (i * 7 + step) % 4;
    b.targets = Tensor::FromIndices(labels, {kBatch, 1});
  } else {
    std::vector<int64_t> ids(kBatch * kLength);
    for (size_t i = 0; i < ids.size(); ++i) {
      ids[i] = i % kLength == kLength - 1 ? 2 : 3 + static_cast<int64_t>(UniformAt(RngKey{4, static_cast<uint32_t>(step), 2, 1}, i) * 9);
    }
    b.input_ids = Tensor::FromIndices(ids, {kBatch, kLength});
    b.targets = b.input_ids;
  }
  return b;
}

model::Batch Shard(const model::Batch& b, int64_t begin, int64_t end) {
  model::Batch s;
  if (b.images.defined()) s.images = ops::Slice(b.images, begin, end).Clone();
  if (b.input_ids.defined()) s.input_ids = b.input_ids.Narrow(begin, end).Clone();
  s.targets = b.targets.Narrow(begin, end).Clone();
  return s;
}

TEST(MultiModelParallelTest, EveryLayoutTrainsLikeOneProcess) {
  Communicator& world = MpiWorld();
  const int n = world.size(), r = world.rank();
  for (int ep = 1; ep <= n; ++ep) {
    if (n % ep != 0 || 4 % ep != 0) continue;
    SCOPED_TRACE(testing::Message() << "EP " << ep << " x DP " << n / ep);
    absl::StatusOr<ProcessGroups> groups = MakeProcessGroups(world, ep);
    ASSERT_TRUE(groups.ok());
    model::MultiModel whole(Trunk(), Heads(), 5);
    model::MultiModel sharded(Trunk(), Heads(), 5, {groups->expert.get(), &world});
    Adam whole_adam(whole.NamedParameters(), {}), sharded_adam(sharded.NamedParameters(), {});
    const int64_t begin = kBatch * r / n, end = kBatch * (r + 1) / n;
    for (int step = 1; step <= 4; ++step) {
      const int task = step % 2 == 1 ? 0 : 1;
      const model::Batch batch = WholeBatch(step);
      whole_adam.ZeroGrad();
      const model::ForwardResult w = whole.Forward(task, batch, model::RunContext{true, static_cast<uint32_t>(step)});
      ops::Add(w.loss, w.aux_loss).Backward();
      whole_adam.Step(1e-2f);

      sharded_adam.ZeroGrad();
      const model::ForwardResult s =
          sharded.Forward(task, Shard(batch, begin, end), model::RunContext{true, static_cast<uint32_t>(step)});
      ops::Add(s.loss, s.aux_loss).Backward();
      ASSERT_TRUE(SyncGradients(*groups, sharded.NamedParameters()).ok());
      sharded_adam.Step(1e-2f);
      // Equal shards of fixed-length examples: the whole-batch loss is the mean of the shard losses.
      double losses[2] = {s.loss.item(), s.aux_loss.item()};
      ASSERT_TRUE(world.AllReduceSum(losses, 2).ok());
      EXPECT_NEAR(losses[0] / n, w.loss.item(), 1e-5 * (1 + std::abs(w.loss.item()))) << "step " << step;
      EXPECT_NEAR(losses[1] / n, w.aux_loss.item(), 1e-5 * (1 + std::abs(w.aux_loss.item()))) << "step " << step;
    }
    std::map<std::string, Tensor> reference;
    for (const auto& [name, t] : whole.NamedParameters()) reference[name] = t;
    const int64_t local = 4 / ep, first = groups->expert_rank() * local;
    for (const auto& [name, t] : sharded.NamedParameters()) {
      const Tensor want = IsExpertParameter(name) ? ops::Slice(reference.at(name), first, first + local) : reference.at(name);
      const std::vector<float> a = t.ToVector(), b = want.ToVector();
      ASSERT_EQ(a.size(), b.size()) << name;
      // Adam divides by sqrt(v): parameters agree to ~1e-4 absolute after a few steps of f32 reduction-order noise.
      for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-4 * (1 + std::abs(b[i]))) << name << " " << i;
    }
  }
}

}  // namespace
}  // namespace onemodel::distributed
