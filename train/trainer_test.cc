#include "train/trainer.h"

#include <filesystem>
#include <fstream>
#include <random>

#include "configs/config.h"
#include "core/cuda_backend.h"
#include "core/rng.h"
#include "gtest/gtest.h"
#include "tasks/task.h"
#include "train/checkpoint.h"
#include "train/toy_tasks.h"

namespace onemodel {
namespace {

NamedTensors Params(const std::string& run_dir) {
  absl::StatusOr<std::string> latest = LatestCheckpoint(run_dir);
  CHECK(latest.ok()) << latest.status();
  absl::StatusOr<CheckpointContents> c = LoadCheckpoint(*latest);
  CHECK(c.ok()) << c.status();
  return GroupTensors(*c, "params");
}

TEST(TrainerTest, ResumeIsBitExact) {
  const config::Experiment config = ToyConfig();
  const std::string whole = EmptyRunDir("whole"), split = EmptyRunDir("split");
  absl::StatusOr<TrainResult> a = Train(config, QuietRun(whole));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->losses.size(), 8u);
  absl::StatusOr<TrainResult> b1 = Train(config, QuietRun(split, 4));  // "interrupted" after step 4
  ASSERT_TRUE(b1.ok()) << b1.status();
  absl::StatusOr<TrainResult> b2 = Train(config, QuietRun(split));     // resumes at step 5
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
  const std::string dir = EmptyRunDir("shape");
  config::Experiment small = ToyConfig(16);
  small.mutable_train()->set_max_steps(1);
  ASSERT_TRUE(Train(small, QuietRun(dir)).ok());
  absl::StatusOr<TrainResult> r = Train(ToyConfig(24), QuietRun(dir));
  ASSERT_FALSE(r.ok());
  const std::string message(r.status().message());
  EXPECT_NE(message.find("ckpt-1"), std::string::npos) << message;
  EXPECT_NE(message.find("[16]"), std::string::npos) << message;
  EXPECT_NE(message.find("[24]"), std::string::npos) << message;
}

TEST(TrainerTest, CorruptTensorFileIsAClearErrorAndNotOverwritten) {
  const std::string dir = EmptyRunDir("corrupt");
  config::Experiment c = ToyConfig();
  c.mutable_train()->set_max_steps(1);
  ASSERT_TRUE(Train(c, QuietRun(dir)).ok());
  const std::string file = dir + "/ckpt-1/params.safetensors";
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[bytes.size() - 3] ^= 0x40;  // a bit of the last tensor's data
  std::ofstream(file, std::ios::binary) << bytes;
  c.mutable_train()->set_max_steps(2);
  absl::StatusOr<TrainResult> r = Train(c, QuietRun(dir));
  ASSERT_FALSE(r.ok());
  const std::string message(r.status().message());
  EXPECT_NE(message.find("params.safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find("CRC-32C"), std::string::npos) << message;
  EXPECT_FALSE(std::filesystem::exists(dir + "/ckpt-2"));
}

TEST(TrainerTest, UnregisteredTaskAndBadFieldsNameTheField) {
  config::Experiment c = ToyConfig();
  c.mutable_tasks(1)->set_name("no_such_task");
  absl::StatusOr<TrainResult> r = Train(c, QuietRun(EmptyRunDir("unregistered")));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("tasks[1].name: 'no_such_task' is not a registered task"), std::string::npos)
      << r.status();
  EXPECT_NE(r.status().message().find("test_copy"), std::string::npos) << r.status();

  c = ToyConfig();
  c.mutable_model()->set_heads(5);
  r = Train(c, QuietRun(EmptyRunDir("heads")));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("model.heads"), std::string::npos) << r.status();

  c = ToyConfig();
  c.mutable_model()->set_audio_frame_stride(2);
  r = Train(c, QuietRun(EmptyRunDir("audio_stride")));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("model.audio_frame_stride: 2 must be 4 or 8"), std::string::npos) << r.status();

  c = ToyConfig();
  c.mutable_train()->set_max_steps(0);
  r = Train(c, QuietRun(EmptyRunDir("steps")));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("train.max_steps"), std::string::npos) << r.status();

  // CUDA where there is none (the CPU build, or no device) names the field and the reason.
  std::string why;
  if (GetCudaBackend() == nullptr || !GetCudaBackend()->DeviceAvailable(&why)) {
    c = ToyConfig();
    c.set_device(config::Experiment::CUDA);
    r = Train(c, QuietRun(EmptyRunDir("device")));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("config field device: CUDA, but no GPU is usable"), std::string::npos)
        << r.status();
  }
}

}  // namespace
}  // namespace onemodel
