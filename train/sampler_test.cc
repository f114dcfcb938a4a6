#include "train/sampler.h"

#include <cmath>

#include "gtest/gtest.h"

namespace onemodel {
namespace {

google::protobuf::RepeatedPtrField<config::TaskConfig> Tasks(std::vector<float> weights) {
  google::protobuf::RepeatedPtrField<config::TaskConfig> tasks;
  for (float w : weights) tasks.Add()->set_weight(w);
  return tasks;
}

TEST(SamplerTest, Probabilities) {
  config::SamplerConfig c;
  const std::vector<int64_t> sizes = {100, 400};
  absl::StatusOr<TaskSampler> s = TaskSampler::Make(c, Tasks({1, 1}), sizes, 1);
  ASSERT_TRUE(s.ok());
  EXPECT_NEAR(s->probabilities()[0], 0.2, 1e-12);
  c.set_kind(config::SamplerConfig::TEMPERATURE);
  c.set_temperature(2);  // sqrt: 10 vs 20
  s = TaskSampler::Make(c, Tasks({1, 1}), sizes, 1);
  ASSERT_TRUE(s.ok());
  EXPECT_NEAR(s->probabilities()[0], 1.0 / 3, 1e-12);
  c.set_kind(config::SamplerConfig::FIXED);
  s = TaskSampler::Make(c, Tasks({3, 1}), sizes, 1);
  ASSERT_TRUE(s.ok());
  EXPECT_NEAR(s->probabilities()[0], 0.75, 1e-12);
}

TEST(SamplerTest, DrawsFollowTheProbabilitiesAndAreReproducible) {
  config::SamplerConfig c;
  c.set_kind(config::SamplerConfig::FIXED);
  absl::StatusOr<TaskSampler> s = TaskSampler::Make(c, Tasks({1, 2, 0, 1}), {1, 1, 1, 1}, 7);
  ASSERT_TRUE(s.ok());
  std::vector<int> counts(4);
  for (int step = 1; step <= 20000; ++step) ++counts[s->Pick(step, step % 3)];
  EXPECT_EQ(counts[2], 0);
  EXPECT_NEAR(counts[1] / 20000.0, 0.5, 0.02);
  EXPECT_NEAR(counts[0] / 20000.0, 0.25, 0.02);
  absl::StatusOr<TaskSampler> again = TaskSampler::Make(c, Tasks({1, 2, 0, 1}), {1, 1, 1, 1}, 7);
  for (int step = 1; step < 100; ++step) EXPECT_EQ(s->Pick(step, 0), again->Pick(step, 0));
}

TEST(SamplerTest, BadWeightsNameTheField) {
  config::SamplerConfig c;
  c.set_kind(config::SamplerConfig::FIXED);
  absl::StatusOr<TaskSampler> s = TaskSampler::Make(c, Tasks({1, -1}), {1, 1}, 1);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("tasks[1].weight"), std::string::npos);
  c.set_kind(config::SamplerConfig::TEMPERATURE);
  c.set_temperature(0);
  s = TaskSampler::Make(c, Tasks({1, 1}), {1, 1}, 1);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("sampler.temperature"), std::string::npos);
}

}  // namespace
}  // namespace onemodel
