#include "train/toy_tasks.h"

#include <cstdlib>
#include <filesystem>

#include "configs/config.h"
#include "core/autograd.h"
#include "core/rng.h"
#include "tasks/task.h"

namespace onemodel {
namespace {

constexpr int64_t kHeldOut = 1 << 30;  // the position of the evaluation batch

// Batches are pure functions of (seed, position), as the Task contract asks.
class ToyTask : public tasks::Task {
 public:
  explicit ToyTask(const tasks::TaskContext& c) : name_(c.config.name()), seed_(c.seed), batch_(c.config.batch_size()) {}
  // The loss on one held-out batch: a number that depends on every parameter the task uses.
  tasks::EvalResult Evaluate(const model::MultiModel& model, int task, int64_t) const override {
    NoGradScope no_grad;
    const model::Batch batch = TrainBatch(kHeldOut);
    return {{{"loss", model.Forward(task, batch, model::RunContext{}).loss.item()}}, {}, batch.size()};
  }

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
    constexpr int64_t kWidth = 5;
    std::vector<int64_t> ids(batch_ * kWidth, 0);
    for (int64_t row = 0; row < batch_; ++row) {
      const int64_t length = 2 + static_cast<int64_t>(UniformAt(Key(position, 3), row) * (kWidth - 1));  // 2..5
      for (int64_t i = 0; i < length; ++i) {
        ids[row * kWidth + i] =
            i == length - 1 ? 2 : 3 + static_cast<int64_t>(UniformAt(Key(position, 1), row * kWidth + i) * 13);
      }
    }
    model::Batch b;
    b.input_ids = Tensor::FromIndices(ids, {batch_, kWidth});
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
ONEMODEL_REGISTER_TASK("test_quadrant", "test: labels for random images", [](const tasks::TaskContext& c) {
  return absl::StatusOr<std::unique_ptr<tasks::Task>>(std::make_unique<QuadrantTask>(c));
});

}  // namespace

config::Experiment ToyConfig(int dim) {
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
  )pb", "toy config");
  CHECK(c.ok()) << c.status();
  c->mutable_model()->set_dim(dim);
  return *c;
}

std::string EmptyRunDir(const std::string& name) {
  const char* root = std::getenv("TEST_TMPDIR");
  const std::string dir = std::string(root != nullptr ? root : "/tmp") + "/" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

TrainOptions QuietRun(const std::string& dir, int64_t stop_after) {
  TrainOptions o;
  o.run_dir = dir;
  o.print = false;
  o.stop_after = stop_after;
  return o;
}

}  // namespace onemodel
