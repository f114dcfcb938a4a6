// Run by run_mpi_test.sh under mpirun with 1, 2 and 4 ranks: the trainer (train/trainer.h) over ranks.
// - Equivalence: the toy config (two tasks, one of variable-length sequences, dropout, noisy top-k MoE and
//   Multi-Head MoE, gradient accumulation, clipping) trained 20 steps with every batch shared by the ranks, at
//   EP = world and (4 ranks) at DP 2 x EP 2, loses at every step what one process loses (within 1e-5 relative);
//   the one-process reference runs on every rank alone. Rank 0's evaluation (of a gathered copy of the weights'
//   moving average, which each rank keeps for its shard) matches too.
// - Reshard (4 ranks): a checkpoint written by 4 ranks at step 10 (weights, optimizer state and average) resumes at
//   2 ranks and at 1 with the next-step loss of the uninterrupted 4-rank run.
#include <cmath>
#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "distributed/mpi_communicator.h"
#include "gtest/gtest.h"
#include "train/checkpoint.h"
#include "train/toy_tasks.h"
#include "train/trainer.h"

namespace onemodel {
namespace {

namespace fs = std::filesystem;
using distributed::Communicator;
using distributed::MpiWorld;

config::Experiment Config(int expert_parallel) {
  config::Experiment c = ToyConfig();
  c.mutable_train()->set_max_steps(20);
  c.mutable_train()->set_log_every(5);
  c.mutable_train()->set_checkpoint_every(10);
  c.mutable_train()->set_eval_every(10);
  c.mutable_tasks(0)->set_batch_size(8);
  c.mutable_tasks(1)->set_batch_size(6);  // 4 ranks: shares of 1 and 2 rows
  c.mutable_distributed()->set_expert_parallel(expert_parallel);
  c.mutable_optimizer()->set_ema_decay(0.9f);
  return c;
}

// A fresh run directory that all ranks of `comm` share (rank 0 clears it).
std::string SharedDir(Communicator& comm, const std::string& name) {
  const std::string dir = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
  if (comm.rank() == 0) fs::remove_all(dir);
  EXPECT_TRUE(comm.Barrier().ok());
  return dir;
}

TrainOptions Options(const std::string& dir, Communicator* world, int64_t stop_after = 0) {
  TrainOptions o;
  o.run_dir = dir;
  o.print = false;
  o.world = world;
  o.stop_after = stop_after;
  return o;
}

void ExpectSameLosses(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], 1e-5 * std::abs(want[i])) << "step " << i + 1;
  }
}

const TrainResult& OneProcess() {
  static const TrainResult result = [] {
    const std::string dir = absl::StrCat(std::getenv("TEST_TMPDIR"), "/one-process-", MpiWorld().rank());
    fs::remove_all(dir);
    absl::StatusOr<TrainResult> r = Train(Config(0), Options(dir, nullptr));
    CHECK(r.ok()) << r.status();
    return *r;
  }();
  return result;
}

TEST(DistributedTrainTest, EveryLayoutLosesWhatOneProcessLoses) {
  Communicator& world = MpiWorld();
  const std::vector<double>& want = OneProcess().losses;
  for (int ep = world.size(); ep >= 1; ep /= 2) {
    if (ep < world.size() && world.size() != 4) break;  // DP x EP: at 4 ranks, 2 x 2
    SCOPED_TRACE(testing::Message() << world.size() << " ranks, EP " << ep);
    const std::string dir = SharedDir(world, absl::StrCat("layout-", world.size(), "-", ep));
    absl::StatusOr<TrainResult> r = Train(Config(ep), Options(dir, &world));
    ASSERT_TRUE(r.ok()) << r.status();
    ExpectSameLosses(r->losses, want);
    // Rank 0 evaluated a gathered copy of the sharded model: the held-out losses of the one-process model.
    if (world.rank() == 0) {
      for (const auto& [task, metrics] : OneProcess().final_eval) {
        const double expected = metrics.at("loss");
        EXPECT_NEAR(r->final_eval.at(task).at("loss"), expected, 1e-4 * expected) << task;
      }
    }
    if (ep == 2) break;
  }
}

TEST(DistributedTrainTest, CheckpointOfFourRanksResumesAtTwoAndOne) {
  Communicator& world = MpiWorld();
  if (world.size() != 4) GTEST_SKIP() << "at 4 ranks";
  const std::vector<double>& want = OneProcess().losses;
  const std::string dir = SharedDir(world, "reshard-4");
  absl::StatusOr<TrainResult> first = Train(Config(0), Options(dir, &world, 10));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(LatestCheckpoint(dir).value(), dir + "/ckpt-10");
  // Copies of the step-10 checkpoint, one for each resumed layout.
  const std::string at2 = SharedDir(world, "reshard-2"), at1 = SharedDir(world, "reshard-1");
  if (world.rank() == 0) {
    fs::copy(dir, at2, fs::copy_options::recursive);
    fs::copy(dir, at1, fs::copy_options::recursive);
  }
  ASSERT_TRUE(world.Barrier().ok());
  config::Experiment next = Config(0);
  next.mutable_train()->set_checkpoint_every(0);
  // Ranks 0-1 resume as a 2-rank run (EP 2), rank 2 as a single process; rank 3 waits.
  absl::StatusOr<std::unique_ptr<Communicator>> pair = world.Split(world.rank() < 2 ? 0 : 1, world.rank(), "pair");
  ASSERT_TRUE(pair.ok()) << pair.status();
  if (world.rank() < 2) {
    absl::StatusOr<TrainResult> r = Train(next, Options(at2, pair->get(), 11));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->first_step, 11);
    ExpectSameLosses(r->losses, {want[10]});
  } else if (world.rank() == 2) {
    absl::StatusOr<TrainResult> r = Train(next, Options(at1, nullptr, 11));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->first_step, 11);
    ExpectSameLosses(r->losses, {want[10]});
  }
  ASSERT_TRUE(world.Barrier().ok());
  // Both resumed layouts carried the average on alike: equal values at step 11 (by global expert id).
  if (world.rank() == 0) {
    absl::StatusOr<CheckpointContents> two = LoadCheckpoint(at2 + "/ckpt-11"), one = LoadCheckpoint(at1 + "/ckpt-11");
    ASSERT_TRUE(two.ok() && one.ok()) << two.status() << one.status();
    std::map<std::string, std::vector<float>> by_name;
    for (const auto& [name, t] : GroupTensors(*one, "ema")) by_name[name] = t.ToVector();
    const NamedTensors average = GroupTensors(*two, "ema");
    ASSERT_EQ(average.size(), by_name.size());
    for (const auto& [name, t] : average) {
      ASSERT_EQ(by_name.count(name), 1u) << name;
      const std::vector<float> got = t.ToVector(), want_values = by_name[name];
      ASSERT_EQ(got.size(), want_values.size()) << name;
      for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want_values[i], 1e-5f) << name << "[" << i << "]";
    }
  }
  ASSERT_TRUE(world.Barrier().ok());
}

}  // namespace
}  // namespace onemodel
