#include "train/checkpoint.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace onemodel {
namespace {

namespace fs = std::filesystem;

std::string RunDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/" + name;
  fs::remove_all(dir);
  return dir;
}

CheckpointContents Contents(int64_t step, float value, int64_t size = 6) {
  CheckpointContents c;
  c.step = step;
  c.config.set_name("test");
  c.config.set_seed(7);
  c.groups["params"] = {{"layer.w", Tensor::Full({2, size / 2}, value)}, {"layer.b", Tensor::Full({3}, -value)}};
  c.groups["optimizer"] = {{"adam.step", Tensor::Scalar(static_cast<float>(step))}};
  c.values["data_position"] = std::to_string(step * 10);
  return c;
}

TEST(CheckpointTest, RoundTripAndLatest) {
  const std::string run = RunDir("roundtrip");
  ASSERT_TRUE(SaveCheckpoint(run, Contents(5, 1.5f)).ok());
  auto latest = LatestCheckpoint(run);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(*latest, run + "/ckpt-5");
  for (const std::string& named : {run, run + "/latest", run + "/ckpt-5"}) {
    const absl::StatusOr<std::string> resolved = ResolveCheckpointDir(named);
    ASSERT_TRUE(resolved.ok()) << named << ": " << resolved.status();
    EXPECT_EQ(*resolved, run + "/ckpt-5") << named;
  }
  auto loaded = LoadCheckpoint(*latest);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->step, 5);
  EXPECT_EQ(loaded->config.seed(), 7u);
  EXPECT_EQ(loaded->values.at("data_position"), "50");
  Tensor w = Tensor::Zeros({2, 3}), b = Tensor::Zeros({3});
  ASSERT_TRUE(RestoreTensors(*loaded, "params", {{"layer.w", w}, {"layer.b", b}}, *latest).ok());
  EXPECT_EQ(w.ToVector(), std::vector<float>(6, 1.5f));
  EXPECT_EQ(b.ToVector(), std::vector<float>(3, -1.5f));
}

TEST(CheckpointTest, KeepsTheLastN) {
  const std::string run = RunDir("keep");
  for (int step = 1; step <= 5; ++step) ASSERT_TRUE(SaveCheckpoint(run, Contents(step, step), 2).ok());
  EXPECT_FALSE(fs::exists(run + "/ckpt-3"));
  EXPECT_TRUE(fs::exists(run + "/ckpt-4"));
  EXPECT_TRUE(fs::exists(run + "/ckpt-5"));
  EXPECT_EQ(*LatestCheckpoint(run), run + "/ckpt-5");
}

// A run resumed from an earlier step saves a step that already has a checkpoint: the new one replaces it whole,
// and no temporary directory (which held the old one) stays behind.
TEST(CheckpointTest, SavingAStepAgainReplacesIt) {
  const std::string run = RunDir("again");
  ASSERT_TRUE(SaveCheckpoint(run, Contents(2, 1.f)).ok());
  ASSERT_TRUE(SaveCheckpoint(run, Contents(2, 4.f, 8)).ok());
  EXPECT_EQ(*LatestCheckpoint(run), run + "/ckpt-2");
  auto loaded = LoadCheckpoint(run + "/ckpt-2");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  Tensor w = Tensor::Zeros({2, 4}), b = Tensor::Zeros({3});
  ASSERT_TRUE(RestoreTensors(*loaded, "params", {{"layer.w", w}, {"layer.b", b}}, run + "/ckpt-2").ok());
  EXPECT_EQ(w.ToVector(), std::vector<float>(8, 4.f));
  EXPECT_FALSE(fs::exists(run + "/.tmp-ckpt-2"));
}

TEST(CheckpointTest, CorruptTensorIsNamed) {
  const std::string run = RunDir("corrupt");
  ASSERT_TRUE(SaveCheckpoint(run, Contents(1, 2.f)).ok());
  const std::string file = run + "/ckpt-1/params.safetensors";
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(-3, std::ios::end);  // inside the last tensor's data
  f.put('\x7f');
  f.close();
  auto loaded = LoadCheckpoint(run + "/ckpt-1");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find(file), std::string::npos) << loaded.status();
  EXPECT_NE(loaded.status().message().find("CRC-32C"), std::string::npos) << loaded.status();
}

TEST(CheckpointTest, OtherModelShapeIsAnErrorAndChangesNothing) {
  const std::string run = RunDir("shape");
  ASSERT_TRUE(SaveCheckpoint(run, Contents(1, 2.f)).ok());
  auto loaded = LoadCheckpoint(run + "/ckpt-1");
  ASSERT_TRUE(loaded.ok());
  Tensor b = Tensor::Zeros({3}), w = Tensor::Zeros({3, 2});
  const absl::Status s = RestoreTensors(*loaded, "params", {{"layer.b", b}, {"layer.w", w}}, run + "/ckpt-1");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'layer.w' is [2, 3] in the checkpoint but [3, 2] in the model"), std::string::npos) << s;
  EXPECT_EQ(b.ToVector(), std::vector<float>(3, 0.f));  // untouched although it matched
  EXPECT_FALSE(LoadCheckpoint(run + "/nonexistent").ok());
}

// A writer killed (SIGKILL) in the middle of a checkpoint leaves the previous one loadable and `latest`
// pointing at it; once a kill lands after `latest` moved, the later saves replace a checkpoint `latest` names. Kills land at several points of the write; at least one must catch it mid-way (its
// temporary directory exists), or the test proves nothing.
// Saves the 160 MB checkpoint of step 2 into `run` in a child process; returns its pid.
pid_t SaveInChild(const std::string& run) {
  const pid_t child = fork();
  if (child == 0) {
    (void)SaveCheckpoint(run, Contents(2, 9.f, 40'000'000));
    _exit(0);
  }
  return child;
}

TEST(CheckpointTest, KillDuringWriteKeepsThePreviousCheckpoint) {
  const std::string run = RunDir("kill");
  ASSERT_TRUE(SaveCheckpoint(run, Contents(1, 1.f)).ok());
  // How long a whole save takes on this machine now (it may be loaded): the kills land at fractions of it.
  const auto start = std::chrono::steady_clock::now();
  const pid_t timing = SaveInChild(RunDir("kill_timing"));
  ASSERT_GE(timing, 0);
  waitpid(timing, nullptr, 0);
  const double whole_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  int interrupted = 0;
  for (int round = 0; round < 3 && interrupted == 0; ++round) {
    for (double fraction : {0.15, 0.35, 0.55, 0.75, 0.9, 1.1}) {
      const pid_t child = SaveInChild(run);
      ASSERT_GE(child, 0);
      usleep(static_cast<useconds_t>(fraction * whole_ms * 1000));
      kill(child, SIGKILL);
      int status = 0;
      waitpid(child, &status, 0);
      if (!WIFSIGNALED(status)) continue;  // it finished first
      interrupted += fs::exists(run + "/.tmp-ckpt-2");
      auto latest = LatestCheckpoint(run);
      ASSERT_TRUE(latest.ok());
      if (*latest == run + "/ckpt-2") {  // killed after `latest` moved: the new checkpoint must be whole
        ASSERT_TRUE(LoadCheckpoint(*latest).ok());
        continue;
      }
      EXPECT_EQ(*latest, run + "/ckpt-1");
      auto loaded = LoadCheckpoint(*latest);
      ASSERT_TRUE(loaded.ok()) << loaded.status();
      EXPECT_EQ(loaded->step, 1);
    }
  }
  EXPECT_GE(interrupted, 1) << "no kill landed during a write (a whole save took " << whole_ms << " ms)";
}

}  // namespace
}  // namespace onemodel
