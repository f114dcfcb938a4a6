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

}  // namespace
}  // namespace onemodel
