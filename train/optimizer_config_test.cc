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

TEST(OptimizerConfigTest, DecayGroupsSetTheDecayByNamePrefixFirstMatchWins) {
  auto e = ParseExperiment(R"(optimizer { kind: ADAMW lr: 1 weight_decay: 0.5
                               decay_groups { prefix: "encoder.norm" weight_decay: 0.25 }
                               decay_groups { prefix: "encoder." } })",
                           "inline");
  ASSERT_TRUE(e.ok()) << e.status();
  NamedTensors params;
  for (const char* name : {"encoder.norm.gain", "encoder.conv.weight", "decoder.conv.weight"}) {
    params.emplace_back(name, Tensor::FromVector({1.f}, {1}).set_requires_grad(true));
    params.back().second.AccumulateGrad(Tensor::FromVector({0.f}, {1}));
  }
  auto opt = MakeOptimizer(e->optimizer(), params);
  ASSERT_TRUE(opt.ok()) << opt.status();
  (*opt)->Step(1.f);  // AdamW with a zero gradient: w = 1 - lr * decay
  EXPECT_FLOAT_EQ(params[0].second.item(), 0.75f);
  EXPECT_FLOAT_EQ(params[1].second.item(), 1.f);
  EXPECT_FLOAT_EQ(params[2].second.item(), 0.5f);
}

TEST(OptimizerConfigTest, BadDecayGroupsNameTheirField) {
  const std::pair<const char*, const char*> cases[] = {
      {"optimizer { decay_groups { weight_decay: 0.1 } }", "optimizer.decay_groups[0].prefix is empty"},
      {"optimizer { decay_groups { prefix: \"w\" } decay_groups { prefix: \"x\" } }",
       "optimizer.decay_groups[1].prefix \"x\" begins no parameter's name (the model's parts: w)"},
      {"optimizer { decay_groups { prefix: \"w\" weight_decay: -1 } }", "optimizer.decay_groups[0].weight_decay"},
  };
  for (const auto& [text, message] : cases) {
    auto e = ParseExperiment(text, "inline");
    ASSERT_TRUE(e.ok()) << e.status();
    auto opt = MakeOptimizer(e->optimizer(), Params());
    ASSERT_FALSE(opt.ok()) << text;
    EXPECT_NE(opt.status().message().find(message), std::string::npos) << opt.status();
  }
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
