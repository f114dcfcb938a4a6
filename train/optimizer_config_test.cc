#include "train/optimizer_config.h"

#include "configs/config.h"
#include "gtest/gtest.h"

namespace onemodel {
namespace {

NamedTensors Params() { return {{"w", Tensor::Zeros({2}).set_requires_grad(true)}}; }

TEST(OptimizerConfigTest, BuildsEachKind) {
  for (const char* text : {"optimizer { kind: SGD momentum: 0.9 nesterov: true }", "optimizer { kind: ADAM }",
                           "optimizer { kind: ADAMW weight_decay: 0.01 }"}) {
    auto e = ParseExperiment(text, "inline");
    ASSERT_TRUE(e.ok());
    auto opt = MakeOptimizer(e->optimizer(), Params());
    EXPECT_TRUE(opt.ok()) << text << ": " << opt.status();
  }
}

TEST(OptimizerConfigTest, BadValuesNameTheirField) {
  const std::pair<const char*, const char*> cases[] = {
      {"optimizer { lr: -1 }", "optimizer.lr"},
      {"optimizer { kind: SGD momentum: 1.5 }", "optimizer.momentum"},
      {"optimizer { kind: SGD nesterov: true }", "optimizer.nesterov"},
      {"optimizer { beta2: 1 }", "optimizer.beta2"},
      {"optimizer { weight_decay: -0.1 }", "optimizer.weight_decay"},
  };
  for (const auto& [text, field] : cases) {
    auto e = ParseExperiment(text, "inline");
    ASSERT_TRUE(e.ok());
    auto opt = MakeOptimizer(e->optimizer(), Params());
    ASSERT_FALSE(opt.ok()) << text;
    EXPECT_NE(opt.status().message().find(field), std::string::npos) << opt.status();
  }
  auto e = ParseExperiment("schedule { min_lr_ratio: 2 }", "inline");
  auto s = MakeSchedule(e->optimizer(), e->schedule(), 100);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("schedule.min_lr_ratio"), std::string::npos);
}

TEST(OptimizerConfigTest, WeightAverageOnlyWhenAskedAndItsDecayIsChecked) {
  auto off = MakeWeightAverage(config::OptimizerConfig(), Params());
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(*off, nullptr);
  auto e = ParseExperiment("optimizer { ema_decay: 0.999 }", "inline");
  ASSERT_TRUE(e.ok());
  auto on = MakeWeightAverage(e->optimizer(), Params());
  ASSERT_TRUE(on.ok()) << on.status();
  EXPECT_NE(*on, nullptr);
  for (const char* text : {"optimizer { ema_decay: 1 }", "optimizer { ema_decay: -0.5 }"}) {
    auto bad = ParseExperiment(text, "inline");
    ASSERT_TRUE(bad.ok());
    auto average = MakeWeightAverage(bad->optimizer(), Params());
    ASSERT_FALSE(average.ok()) << text;
    EXPECT_NE(average.status().message().find("optimizer.ema_decay"), std::string::npos) << average.status();
  }
}

}  // namespace
}  // namespace onemodel
