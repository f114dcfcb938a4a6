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
#include "train/evaluator.h"
#include "train/toy_tasks.h"

namespace onemodel {
namespace {

NamedTensors Group(const std::string& run_dir, const std::string& group) {
  absl::StatusOr<std::string> latest = LatestCheckpoint(run_dir);
  CHECK(latest.ok()) << latest.status();
  absl::StatusOr<CheckpointContents> c = LoadCheckpoint(*latest);
  CHECK(c.ok()) << c.status();
  return GroupTensors(*c, group);
}

NamedTensors Params(const std::string& run_dir) { return Group(run_dir, "params"); }

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

TEST(TrainerTest, TimeIsSplitByTaskAndPart) {
  absl::StatusOr<TrainResult> r = Train(ToyConfig(), QuietRun(EmptyRunDir("timed")));
  ASSERT_TRUE(r.ok()) << r.status();
  // 8 steps of 2 micro-batches, each drawn from one of the two tasks; one update per step; a checkpoint at the end.
  ASSERT_EQ(r->time.count("test_copy") + r->time.count("test_quadrant"), 2u);
  EXPECT_EQ(r->time.at("test_copy").count + r->time.at("test_quadrant").count, 16);
  EXPECT_EQ(r->time.at("update").count, 8);
  EXPECT_EQ(r->time.at("checkpoints").count, 1);
  double accounted = 0;
  for (const auto& [part, share] : r->time) {
    EXPECT_GT(share.seconds, 0) << part;
    accounted += share.seconds;
  }
  EXPECT_LE(accounted, r->seconds);
}

TEST(TrainerTest, TimeSharesTextListsLargestFirstAndTheRestAsOther) {
  const std::string text = TimeSharesText({{"speech", {6, 3}}, {"update", {1, 4}}, {"vision", {2, 2}}}, 10);
  EXPECT_EQ(text,
            "time (10 s):\n"
            "  speech                    60.0 %  3 x 2000.0 ms\n"
            "  vision                    20.0 %  2 x 1000.0 ms\n"
            "  update                    10.0 %  4 x 250.0 ms\n"
            "  other                     10.0 %\n");
}

float Scalar(const NamedTensors& tensors, const std::string& name) {
  for (const auto& [n, t] : tensors) {
    if (n == name) return t.item();
  }
  ADD_FAILURE() << "no tensor " << name;
  return 0;
}

TEST(TrainerTest, WeightAverageResumesBitExactAndIsWhatEvaluationReads) {
  config::Experiment plain = ToyConfig();
  plain.mutable_train()->set_eval_every(8);
  config::Experiment averaged = plain;
  averaged.mutable_optimizer()->set_ema_decay(0.9f);
  const std::string plain_dir = EmptyRunDir("ema_plain"), whole = EmptyRunDir("ema_whole");
  const std::string split = EmptyRunDir("ema_split"), late = EmptyRunDir("ema_late");
  absl::StatusOr<TrainResult> p = Train(plain, QuietRun(plain_dir));
  absl::StatusOr<TrainResult> a = Train(averaged, QuietRun(whole));
  ASSERT_TRUE(p.ok() && a.ok()) << p.status() << a.status();
  ASSERT_TRUE(Train(averaged, QuietRun(split, 4)).ok());
  ASSERT_TRUE(Train(averaged, QuietRun(split)).ok());
  ASSERT_TRUE(Train(plain, QuietRun(late, 5)).ok());  // the average turned on at step 6
  ASSERT_TRUE(Train(averaged, QuietRun(late)).ok());

  // The average does not change training; it resumes bit-exactly; it is not the weights.
  const NamedTensors raw = Params(plain_dir), params = Params(whole);
  const NamedTensors average = Group(whole, "ema"), resumed = Group(split, "ema");
  ASSERT_EQ(raw.size(), params.size());
  ASSERT_EQ(average.size(), params.size() + 1);  // and the update count
  ASSERT_EQ(resumed.size(), average.size());
  bool differs = false;
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(raw[i].second.ToVector(), params[i].second.ToVector()) << params[i].first;
    EXPECT_EQ(average[i].second.ToVector(), resumed[i].second.ToVector()) << average[i].first;
    differs = differs || average[i].second.ToVector() != params[i].second.ToVector();
  }
  EXPECT_TRUE(differs);
  EXPECT_EQ(Scalar(average, "ema.updates"), 8.f);
  EXPECT_EQ(Scalar(Group(late, "ema"), "ema.updates"), 3.f);

  // Training's final evaluation and `onemodel eval` read the average.
  absl::StatusOr<std::vector<CheckpointEval>> evals = EvaluateCheckpoints({whole, plain_dir}, {{}, 0, false});
  ASSERT_TRUE(evals.ok()) << evals.status();
  ASSERT_EQ(evals->size(), 2u);
  const auto evaluated = [](const CheckpointEval& e, const std::string& task) {
    for (const auto& [name, r] : e.tasks) {
      if (name == task) return r.metrics.at(0).second;
    }
    ADD_FAILURE() << e.checkpoint << " has no evaluation of " << task;
    return -1.0;
  };
  for (const char* task : {"test_copy", "test_quadrant"}) {
    const double from_training = a->final_eval.at(task).at("loss"), raw_loss = p->final_eval.at(task).at("loss");
    EXPECT_NE(from_training, raw_loss) << task;
    EXPECT_EQ(evaluated((*evals)[0], task), from_training) << task;
    EXPECT_EQ(evaluated((*evals)[1], task), raw_loss) << task;
  }
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
