#include "train/trainer.h"

#include <filesystem>
#include <fstream>
#include <random>

#include "configs/config.h"
#include "core/rng.h"
#include "gtest/gtest.h"
#include "tasks/task.h"
#include "train/checkpoint.h"

namespace onemodel {
namespace {

// Two small data-free tasks registered by this test: copying random id sequences, and labels for random images
// (round-robin: the tests are about the trainer, not about what is learnable). Batches are pure functions of
// (seed, position), as the Task contract asks.
class ToyTask : public tasks::Task {
 public:
  explicit ToyTask(const tasks::TaskContext& c) : name_(c.config.name()), seed_(c.seed), batch_(c.config.batch_size()) {}
  tasks::EvalResult Evaluate(const model::MultiModel&, int, int64_t) const override { return {{{"none", 0}}, {}, 0}; }

 protected:
  RngKey Key(int64_t position, uint16_t part) const { return RngKey{seed_, static_cast<uint32_t>(position), part, 9}; }
  std::string name_;
  uint64_t seed_;
  int64_t batch_;
};

class CopyTask : public ToyTask {
 public:
  using ToyTask::ToyTask;
  model::TaskHead Head() const override {
    return {name_, model::InputModality::kSymbols, model::OutputModality::kSymbols, 0, "toy", 16};
  }
  int64_t TrainExamples() const override { return 1000; }
  model::Batch TrainBatch(int64_t position) const override {
    std::vector<int64_t> ids(batch_ * 5);
    for (size_t i = 0; i < ids.size(); ++i) {
      ids[i] = i % 5 == 4 ? 2 : 3 + static_cast<int64_t>(UniformAt(Key(position, 1), i) * 13);
    }
    model::Batch b;
    b.input_ids = Tensor::FromIndices(ids, {batch_, 5});
    b.targets = b.input_ids;
    return b;
  }
};

class QuadrantTask : public ToyTask {
 public:
  using ToyTask::ToyTask;
  model::TaskHead Head() const override {
    return {name_, model::InputModality::kImage, model::OutputModality::kClassLabel, 4, "", 0};
  }
  int64_t TrainExamples() const override { return 500; }
  model::Batch TrainBatch(int64_t position) const override {
    model::Batch b;
    b.images = RandomUniform({batch_, 16, 16}, Key(position, 2));
    std::vector<int64_t> labels(batch_);
    for (int64_t i = 0; i < batch_; ++i) labels[i] = (position + i) % 4;
    b.targets = Tensor::FromIndices(labels, {batch_, 1});
    return b;
  }
};

ONEMODEL_REGISTER_TASK("test_copy", "test: copy ids", [](const tasks::TaskContext& c) {
  return absl::StatusOr<std::unique_ptr<tasks::Task>>(std::make_unique<CopyTask>(c));
});
ONEMODEL_REGISTER_TASK("test_quadrant", "test: brightest quadrant", [](const tasks::TaskContext& c) {
  return absl::StatusOr<std::unique_ptr<tasks::Task>>(std::make_unique<QuadrantTask>(c));
});

config::Experiment Config(int dim = 16) {
  absl::StatusOr<config::Experiment> c = ParseExperiment(R"pb(
    seed: 3
    threads: 1
    optimizer { kind: ADAM lr: 3e-3 clip_norm: 1 }
    schedule { kind: COSINE warmup_steps: 2 }
    train { max_steps: 8 log_every: 2 grad_accum_steps: 2 keep_checkpoints: 2 }
    model {
      heads: 2
      image_channels: 4
      dropout: 0.1
      encoder_moe { num_experts: 4 hidden: 16 router { kind: NOISY_TOP_K top_k: 2 } }
      decoder_moe { layer: MH_MOE heads: 2 num_experts: 4 hidden: 16 router { kind: SWITCH top_k: 1 jitter: 0.1 } }
    }
    sampler { kind: TEMPERATURE }
    tasks { name: "test_copy" batch_size: 4 }
    tasks { name: "test_quadrant" batch_size: 3 }
  )pb", "test");
  CHECK(c.ok()) << c.status();
  c->mutable_model()->set_dim(dim);
  return *c;
}

std::string TempDir(const std::string& name) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

TrainOptions Options(const std::string& dir, int64_t stop_after = 0) {
  TrainOptions o;
  o.run_dir = dir;
  o.print = false;
  o.stop_after = stop_after;
  return o;
}

NamedTensors Params(const std::string& run_dir) {
  absl::StatusOr<std::string> latest = LatestCheckpoint(run_dir);
  CHECK(latest.ok()) << latest.status();
  absl::StatusOr<CheckpointContents> c = LoadCheckpoint(*latest);
  CHECK(c.ok()) << c.status();
  return c->groups.at("params");
}

TEST(TrainerTest, ResumeIsBitExact) {
  const config::Experiment config = Config();
  const std::string whole = TempDir("whole"), split = TempDir("split");
  absl::StatusOr<TrainResult> a = Train(config, Options(whole));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->losses.size(), 8u);
  absl::StatusOr<TrainResult> b1 = Train(config, Options(split, 4));  // "interrupted" after step 4
  ASSERT_TRUE(b1.ok()) << b1.status();
  absl::StatusOr<TrainResult> b2 = Train(config, Options(split));     // resumes at step 5
  ASSERT_TRUE(b2.ok()) << b2.status();
  EXPECT_EQ(b2->first_step, 5);
  std::vector<double> resumed = b1->losses;
  resumed.insert(resumed.end(), b2->losses.begin(), b2->losses.end());
  ASSERT_EQ(resumed.size(), a->losses.size());
  for (size_t i = 0; i < resumed.size(); ++i) EXPECT_EQ(resumed[i], a->losses[i]) << "step " << i + 1;
  const NamedTensors pa = Params(whole), pb = Params(split);
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pa[i].first, pb[i].first);
    EXPECT_EQ(pa[i].second.ToVector(), pb[i].second.ToVector()) << pa[i].first;
  }
  // Training did something: the losses are not constant.
  EXPECT_NE(a->losses.front(), a->losses.back());
}

TEST(TrainerTest, CheckpointOfAnotherModelShapeIsAClearError) {
  const std::string dir = TempDir("shape");
  config::Experiment small = Config(16);
  small.mutable_train()->set_max_steps(1);
  ASSERT_TRUE(Train(small, Options(dir)).ok());
  absl::StatusOr<TrainResult> r = Train(Config(24), Options(dir));
  ASSERT_FALSE(r.ok());
  const std::string message(r.status().message());
  EXPECT_NE(message.find("ckpt-1"), std::string::npos) << message;
  EXPECT_NE(message.find("[16]"), std::string::npos) << message;
  EXPECT_NE(message.find("[24]"), std::string::npos) << message;
}

TEST(TrainerTest, CorruptTensorFileIsAClearErrorAndNotOverwritten) {
  const std::string dir = TempDir("corrupt");
  config::Experiment c = Config();
  c.mutable_train()->set_max_steps(1);
  ASSERT_TRUE(Train(c, Options(dir)).ok());
  const std::string file = dir + "/ckpt-1/params.safetensors";
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[bytes.size() - 3] ^= 0x40;  // a bit of the last tensor's data
  std::ofstream(file, std::ios::binary) << bytes;
  c.mutable_train()->set_max_steps(2);
  absl::StatusOr<TrainResult> r = Train(c, Options(dir));
  ASSERT_FALSE(r.ok());
  const std::string message(r.status().message());
  EXPECT_NE(message.find("params.safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find("CRC-32C"), std::string::npos) << message;
  EXPECT_FALSE(std::filesystem::exists(dir + "/ckpt-2"));
}

TEST(TrainerTest, UnregisteredTaskAndBadFieldsNameTheField) {
  config::Experiment c = Config();
  c.mutable_tasks(1)->set_name("no_such_task");
  absl::StatusOr<TrainResult> r = Train(c, Options(TempDir("unregistered")));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("tasks[1].name: 'no_such_task' is not a registered task"), std::string::npos)
      << r.status();
  EXPECT_NE(r.status().message().find("test_copy"), std::string::npos) << r.status();

  c = Config();
  c.mutable_model()->set_heads(5);
  r = Train(c, Options(TempDir("heads")));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("model.heads"), std::string::npos) << r.status();

  c = Config();
  c.mutable_train()->set_max_steps(0);
  r = Train(c, Options(TempDir("steps")));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("train.max_steps"), std::string::npos) << r.status();

}

}  // namespace
}  // namespace onemodel
