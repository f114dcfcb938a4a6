// The default model (configs/default.pbtxt's trunk, its four kinds of task) on the GPU against the CPU: losses,
// auxiliary losses and every parameter's gradient of a training step, the loss after an update, and greedy
// decoding, classification and the phoneme CTC output speech decodes with; then the same in bf16 mixed precision
// (model.matmul_precision: BF16) against the CPU's emulation of it. Prints SKIPPED without a CUDA build or device.
#include <random>

#include "configs/config.h"
#include "core/ops/ops.h"
#include "core/optim.h"
#include "core/testing/cuda_compare.h"
#include "gtest/gtest.h"
#include "model/multimodel.h"

namespace onemodel::model {
namespace {

using testing::ExpectCloseToCpu;

constexpr int64_t kVocab = 300, kMels = 40, kBatch = 4, kPhonemes = 12;

std::vector<TaskHead> DefaultHeads() {
  TaskHead speech{"speech", InputModality::kAudio, OutputModality::kSymbols, 0, "text", kVocab, kMels};
  speech.ctc_weight = 0.3f;
  speech.aux_ctc_weight = 1.f;  // the phoneme CTC the default decodes speech with
  speech.aux_ctc_classes = kPhonemes + 1;
  return {{"vision", InputModality::kImage, OutputModality::kClassLabel, 10, "", 0},
          {"translate", InputModality::kSymbols, OutputModality::kSymbols, 0, "text", kVocab},
          {"caption", InputModality::kImage, OutputModality::kSymbols, 0, "text", kVocab},
          speech};
}

Tensor Ids(std::mt19937& rng, int64_t b, int64_t t) {
  std::vector<int64_t> ids(b * t, 0);
  for (int64_t i = 0; i < b; ++i) {
    const int64_t length = t - static_cast<int64_t>(rng() % 3);  // some padding
    for (int64_t j = 0; j + 1 < length; ++j) ids[i * t + j] = 3 + rng() % (kVocab - 3);
    ids[i * t + length - 1] = 2;  // end of sentence
  }
  return Tensor::FromIndices(ids, {b, t});
}

Batch TaskBatch(const TaskHead& head, std::mt19937& rng) {
  Batch batch;
  switch (head.input) {
    case InputModality::kImage: batch.images = testing::RandomCpu({kBatch, 28, 28}, 0, 1, rng()); break;
    case InputModality::kSymbols: batch.input_ids = Ids(rng, kBatch, 9); break;
    case InputModality::kAudio:
      batch.audio = testing::RandomCpu({kBatch, 96, kMels}, -1, 1, rng());
      batch.audio_frames = Tensor::FromIndices({96, 80, 96, 72}, {kBatch});
      if (head.aux_ctc_weight > 0) {
        std::vector<int64_t> labels(kBatch * 10, 0);
        for (int64_t i = 0; i < kBatch; ++i) {
          for (int64_t j = 0; j < 10 - i; ++j) labels[i * 10 + j] = 1 + rng() % kPhonemes;
        }
        batch.ctc_labels = Tensor::FromIndices(labels, {kBatch, 10});
      }
      break;
  }
  if (head.output == OutputModality::kClassLabel) {
    std::vector<int64_t> labels(kBatch);
    for (auto& l : labels) l = rng() % head.classes;
    batch.targets = Tensor::FromIndices(labels, {kBatch, 1});
  } else {
    batch.targets = Ids(rng, kBatch, 7);
  }
  return batch;
}

// Per-parameter gradients within `tolerance` (f32); in bf16 the losses and the total gradient norm.
void CompareDefaultModel(config::TrunkConfig::Precision precision, float tolerance) {
  const bool exact = precision == config::TrunkConfig::F32;
  absl::StatusOr<config::Experiment> experiment = LoadExperiment("configs/default.pbtxt");
  ASSERT_TRUE(experiment.ok()) << experiment.status();
  experiment->mutable_model()->set_matmul_precision(precision);
  // Dropless routing: with capacity drops (and the routers' noise) which rows an expert keeps can turn on a
  // near-tie, and there a 1e-6 change of one decoder weight moves the next step's gradients by percents on the CPU
  // alone. Without drops the comparison measures the devices, not that discontinuity.
  for (config::MoeConfig* moe : {experiment->mutable_model()->mutable_encoder_moe(),
                                 experiment->mutable_model()->mutable_decoder_moe()}) {
    moe->mutable_router()->set_capacity_factor_train(0);
  }
  const std::vector<TaskHead> heads = DefaultHeads();
  MultiModel cpu(experiment->model(), heads, 1), gpu(experiment->model(), heads, 1);
  gpu.To(Device::CUDA());
  // SGD: its update is linear in the gradient, so the devices' parameters stay within f32 noise of each other
  // (Adam's first step is lr * sign(g), which a gradient of ~0 on both devices can flip; Adam has its own test).
  Sgd cpu_sgd(cpu.NamedParameters(), {}), gpu_sgd(gpu.NamedParameters(), {});
  std::mt19937 rng(3);
  for (int task = 0; task < static_cast<int>(heads.size()); ++task) {
    SCOPED_TRACE(heads[task].task);
    const Batch batch = TaskBatch(heads[task], rng);
    const Batch device_batch = batch.To(Device::CUDA());
    for (uint32_t step = 1; step <= 2; ++step) {
      cpu_sgd.ZeroGrad();
      gpu_sgd.ZeroGrad();
      const RunContext run{true, step + 10 * static_cast<uint32_t>(task), 0};
      const ForwardResult a = cpu.Forward(task, batch, run), b = gpu.Forward(task, device_batch, run);
      ASSERT_EQ(b.loss.device(), Device::CUDA());
      ExpectCloseToCpu({b.loss.item(), b.aux_loss.item()}, {a.loss.item(), a.aux_loss.item()}, tolerance / 10,
                       "losses");
      ops::Add(a.loss, a.aux_loss).Backward();
      ops::Add(b.loss, b.aux_loss).Backward();
      const NamedTensors pc = cpu.NamedParameters(), pg = gpu.NamedParameters();
      std::vector<Tensor> gc, gg;
      for (size_t i = 0; i < pc.size(); ++i) {
        ASSERT_EQ(pc[i].second.grad().defined(), pg[i].second.grad().defined()) << pc[i].first;
        if (!pc[i].second.grad().defined()) continue;
        gc.push_back(pc[i].second);
        gg.push_back(pg[i].second);
        if (!exact) continue;
        ExpectCloseToCpu(pg[i].second.grad().ToVector(), pc[i].second.grad().ToVector(), tolerance,
                         "gradient of " + pc[i].first);
      }
      ExpectCloseToCpu({static_cast<float>(GradSquaredSum(gg))}, {static_cast<float>(GradSquaredSum(gc))}, tolerance,
                       "squared gradient norm");
      cpu_sgd.Step(0.05f);
      gpu_sgd.Step(0.05f);
    }
    // The host batch as the tasks' evaluation passes it: the model copies what it reads. (In bf16 a near tie
    // between two logits can go either way, so there decoding only has to run.)
    if (heads[task].output == OutputModality::kClassLabel) {
      const std::vector<int64_t> classes = gpu.Classify(task, batch);
      if (exact) EXPECT_EQ(classes, cpu.Classify(task, batch));
    } else {
      DecodeOptions options;
      options.max_length = 8;
      const std::vector<std::vector<int>> ids = gpu.Generate(task, batch, options);
      if (exact) EXPECT_EQ(ids, cpu.Generate(task, batch, options));
    }
    if (heads[task].aux_ctc_weight > 0 && exact) {
      const std::vector<std::vector<float>> a = cpu.AuxiliaryCtcLogProbs(task, batch),
                                            b = gpu.AuxiliaryCtcLogProbs(task, batch);
      ASSERT_EQ(a.size(), b.size());
      for (size_t i = 0; i < a.size(); ++i) ExpectCloseToCpu(b[i], a[i], tolerance, "phoneme log-probabilities");
    }
  }
}

TEST(MultiModelCudaTest, DefaultModelTrainsAndDecodesAsOnTheCpu) { CompareDefaultModel(config::TrunkConfig::F32, 1e-3f); }

// bf16: both devices round the same operands, but an f32 value one ulp apart can round to neighbouring bf16 values
// before the next product (and a router near a tie can then pick another expert for a token), so the losses and the
// gradient norm are compared, to 2e-2.
TEST(MultiModelCudaTest, DefaultModelInBf16MatchesTheCpuEmulation) {
  CompareDefaultModel(config::TrunkConfig::BF16, 2e-2f);
}

}  // namespace
}  // namespace onemodel::model
