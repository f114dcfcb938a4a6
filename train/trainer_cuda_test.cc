// The multi-task trainer with `device: CUDA` against the CPU on the toy tasks (dropout, both MoE layer kinds,
// gradient accumulation and clipping): the same losses step by step, a resume on the GPU that continues the run
// it interrupted, and the final evaluation of the weights' moving average. Prints SKIPPED without a CUDA build or
// device.

#include "core/testing/cuda_compare.h"
#include "gtest/gtest.h"
#include "train/toy_tasks.h"
#include "train/trainer.h"

namespace onemodel {
namespace {

TEST(TrainerCudaTest, ToyTasksTrainOnTheGpuAsOnTheCpu) {
  // SGD: an update linear in the gradient keeps the two devices within f32 noise (Adam has its own GPU test).
  config::Experiment cpu = ToyConfig();
  cpu.mutable_optimizer()->set_kind(config::OptimizerConfig::SGD);
  cpu.mutable_optimizer()->set_lr(0.05f);
  // Dropless: with capacity drops which rows an expert keeps can turn on a near-tie (see multimodel_cuda_test).
  for (config::MoeConfig* moe : {cpu.mutable_model()->mutable_encoder_moe(), cpu.mutable_model()->mutable_decoder_moe()}) {
    moe->mutable_router()->set_capacity_factor_train(0);
  }
  // Evaluated at the end on the weights' moving average, kept on the device.
  cpu.mutable_optimizer()->set_ema_decay(0.9f);
  cpu.mutable_train()->set_eval_every(8);
  config::Experiment gpu = cpu;
  gpu.set_device(config::Experiment::CUDA);
  absl::StatusOr<TrainResult> a = Train(cpu, QuietRun(EmptyRunDir("trainer_cuda_cpu")));
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<TrainResult> b = Train(gpu, QuietRun(EmptyRunDir("trainer_cuda_gpu")));
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(a->losses.size(), b->losses.size());
  testing::ExpectCloseToCpu(std::vector<float>(b->losses.begin(), b->losses.end()),
                            std::vector<float>(a->losses.begin(), a->losses.end()), 1e-4f, "losses");
  ASSERT_EQ(b->final_eval.size(), a->final_eval.size());
  for (const auto& [task, metrics] : a->final_eval) {
    const double want = metrics.at("loss");
    EXPECT_NEAR(b->final_eval.at(task).at("loss"), want, 1e-4 * want) << task;
  }
  // Interrupted after step 4 and resumed: the rest of the uninterrupted GPU run.
  const std::string split = EmptyRunDir("trainer_cuda_split");
  absl::StatusOr<TrainResult> first = Train(gpu, QuietRun(split, 4));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<TrainResult> rest = Train(gpu, QuietRun(split));
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(rest->first_step, 5);
  std::vector<float> resumed(first->losses.begin(), first->losses.end());
  resumed.insert(resumed.end(), rest->losses.begin(), rest->losses.end());
  testing::ExpectCloseToCpu(resumed, std::vector<float>(b->losses.begin(), b->losses.end()), 1e-6f, "resumed");
}

}  // namespace
}  // namespace onemodel
