#include "core/ops/cross_entropy.h"

#include <cmath>

#include "core/testing/gradcheck.h"
#include "gtest/gtest.h"

namespace onemodel::ops {
namespace {

using testing::CheckOp;
using testing::Doubles;

TEST(CrossEntropyTest, SmoothingAndIgnoreIndexMatchReference) {
  std::mt19937 rng(1);
  for (float smoothing : {0.f, 0.1f}) {
    for (int trial = 0; trial < 3; ++trial) {
      const Shape nv = testing::RandomShape(rng, 2, 6);
      const int64_t n = nv[0] + 1, v = nv[1];
      std::vector<int64_t> targets(n);
      for (int64_t i = 0; i < n; ++i) targets[i] = i == 0 ? -100 : static_cast<int64_t>(rng() % v);
      const Tensor t = Tensor::FromIndices(targets, {n});
      CheckOp({testing::RandomTensor(rng, {n, v}, -3.f, 3.f)},
              [&](const std::vector<Tensor>& in) { return CrossEntropy(in[0], t, smoothing, -100); },
              [&](const std::vector<Doubles>& in) {
                double total = 0;
                int counted = 0;
                for (int64_t r = 0; r < n; ++r) {
                  if (targets[r] == -100) continue;
                  double m = -INFINITY, z = 0, sum_lp = 0;
                  for (int64_t j = 0; j < v; ++j) m = std::max(m, in[0][r * v + j]);
                  for (int64_t j = 0; j < v; ++j) z += std::exp(in[0][r * v + j] - m);
                  for (int64_t j = 0; j < v; ++j) sum_lp += in[0][r * v + j] - m - std::log(z);
                  const double lp_t = in[0][r * v + targets[r]] - m - std::log(z);
                  total += -(1 - smoothing) * lp_t - smoothing * sum_lp / v;
                  ++counted;
                }
                return Doubles{total / counted};
              });
    }
  }
}

TEST(CrossEntropyTest, AllIgnoredGivesZero) {
  const Tensor logits = Tensor::Zeros({2, 3});
  EXPECT_EQ(CrossEntropy(logits, Tensor::FromIndices({-100, -100}, {2})).item(), 0.f);
}

TEST(CrossEntropyDeathTest, TargetOutOfRangeIsNamed) {
  EXPECT_DEATH(CrossEntropy(Tensor::Zeros({2, 3}), Tensor::FromIndices({0, 3}, {2})),
               "CrossEntropy: target 3 at row 1 outside \\[0, 3\\)");
}

}  // namespace
}  // namespace onemodel::ops
