#include "core/ops/distance.h"

#include <cmath>

#include "core/testing/gradcheck.h"
#include "gtest/gtest.h"

namespace onemodel::ops {
namespace {

using testing::CheckOp;
using testing::Doubles;

TEST(DistanceTest, PairwiseL2MatchesReference) {
  std::mt19937 rng(1);
  for (int trial = 0; trial < 4; ++trial) {
    const Shape ned = testing::RandomShape(rng, 3, 6);
    const int64_t n = ned[0], e = ned[1], d = ned[2];
    CheckOp({testing::RandomTensor(rng, {n, d}), testing::RandomTensor(rng, {e, d})},
            [](const std::vector<Tensor>& in) { return PairwiseL2(in[0], in[1]); },
            [&](const std::vector<Doubles>& in) {
              Doubles out(n * e);
              for (int64_t i = 0; i < n; ++i)
                for (int64_t j = 0; j < e; ++j) {
                  double s = 0;
                  for (int64_t k = 0; k < d; ++k) s += std::pow(in[0][i * d + k] - in[1][j * d + k], 2);
                  out[i * e + j] = std::sqrt(s);
                }
              return out;
            },
            {1e-3, 1e-3});  // forward: |x|^2 + |w|^2 - 2 x.w in f32 loses a few digits to cancellation
  }
}

TEST(DistanceTest, ZeroDistanceHasFiniteZeroGradient) {
  Tensor x = Tensor::FromVector({1.f, 2.f}, {1, 2}).set_requires_grad(true);
  const Tensor w = Tensor::FromVector({1.f, 2.f}, {1, 2});
  Tensor d = PairwiseL2(x, w);
  EXPECT_EQ(d.item(), 0.f);
  d.Backward();
  EXPECT_EQ(x.grad().ToVector(), (std::vector<float>{0.f, 0.f}));
}

}  // namespace
}  // namespace onemodel::ops
