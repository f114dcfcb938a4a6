#include "configs/config.h"

#include "gtest/gtest.h"

namespace onemodel {
namespace {

TEST(ConfigTest, ParsesFieldsAndDefaults) {
  auto e = ParseExperiment("seed: 7 optimizer { kind: SGD lr: 0.5 }", "inline");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->seed(), 7u);
  EXPECT_EQ(e->optimizer().kind(), config::OptimizerConfig::SGD);
  EXPECT_FLOAT_EQ(e->optimizer().lr(), 0.5f);
  EXPECT_FLOAT_EQ(e->optimizer().beta2(), 0.999f);  // default
}

TEST(ConfigTest, UnknownFieldIsAnErrorNamingSourceLineAndField) {
  auto e = ParseExperiment("seed: 1\noptimizer { learning_rate: 0.1 }\n", "configs/bad.pbtxt");
  ASSERT_FALSE(e.ok());
  const std::string message(e.status().message());
  EXPECT_NE(message.find("configs/bad.pbtxt:2:"), std::string::npos) << message;
  EXPECT_NE(message.find("learning_rate"), std::string::npos) << message;
}

TEST(ConfigTest, BadValueIsAnError) {
  auto e = ParseExperiment("optimizer { kind: RMSPROP }", "inline");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(std::string(e.status().message()).find("RMSPROP"), std::string::npos) << e.status();
}

TEST(ConfigTest, MissingFileIsAnErrorNamingIt) {
  auto e = LoadExperiment("/nonexistent/x.pbtxt");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(std::string(e.status().message()).find("/nonexistent/x.pbtxt"), std::string::npos);
}

TEST(ConfigTest, ShippedConfigsParse) {
  auto e = LoadExperiment("configs/default.pbtxt");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->name(), "default");
  EXPECT_EQ(e->tasks_size(), 5);  // four tasks; translation counts twice, one task per direction
  auto three = LoadExperiment("configs/vision_translation.pbtxt");
  ASSERT_TRUE(three.ok()) << three.status();
  EXPECT_EQ(three->tasks_size(), 3);
  EXPECT_TRUE(LoadExperiment("configs/translation_only.pbtxt").ok());
}

}  // namespace
}  // namespace onemodel
