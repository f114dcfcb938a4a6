#include "core/ops/dropout.h"

#include "core/testing/gradcheck.h"
#include "gtest/gtest.h"

namespace onemodel::ops {
namespace {

using testing::CheckOp;
using testing::Doubles;

TEST(DropoutTest, MaskFollowsTheCounterRngAndScalesKeptValues) {
  const RngKey key{42, 7, 3, 1};
  const float p = 0.3f;
  std::mt19937 rng(1);
  const Tensor x = testing::RandomTensor(rng, {4, 1, 5});
  CheckOp({x}, [&](const std::vector<Tensor>& in) { return Dropout(in[0], p, key, true); },
          [&](const std::vector<Doubles>& in) {
            Doubles out(in[0].size());
            for (size_t i = 0; i < out.size(); ++i) out[i] = UniformAt(key, i) >= p ? in[0][i] / (1 - p) : 0.0;
            return out;
          });
}

TEST(DropoutTest, KeepsAboutOneMinusPAndIsIdentityInEval) {
  const Tensor x = Tensor::Full({100000}, 1.f);
  const std::vector<float> y = Dropout(x, 0.25f, RngKey{1}, true).ToVector();
  int kept = 0;
  for (float v : y) kept += v != 0.f;
  EXPECT_NEAR(kept / 100000.0, 0.75, 0.01);
  EXPECT_EQ(Dropout(x, 0.25f, RngKey{1}, false).raw_data(), x.raw_data());
}

TEST(DropoutTest, OffsetSelectsTheSameStreamPositions) {
  // A shard starting at global element 6 draws the same mask as the full tensor's elements 6..9.
  const Tensor full = Tensor::Full({10}, 1.f);
  const std::vector<float> a = Dropout(full, 0.5f, RngKey{9}, true).ToVector();
  const std::vector<float> b = Dropout(Tensor::Full({4}, 1.f), 0.5f, RngKey{9}, true, 6).ToVector();
  EXPECT_EQ(std::vector<float>(a.begin() + 6, a.end()), b);
}

}  // namespace
}  // namespace onemodel::ops
