#include "core/ops/softmax.h"

#include <cmath>

#include "core/testing/gradcheck.h"
#include "gtest/gtest.h"

namespace onemodel::ops {
namespace {

using testing::CheckOp;
using testing::Doubles;

Doubles SoftmaxRef(const Doubles& x, int64_t n, bool log) {
  Doubles out(x.size());
  for (size_t r = 0; r < x.size() / n; ++r) {
    double m = -INFINITY, z = 0;
    for (int64_t j = 0; j < n; ++j) m = std::max(m, x[r * n + j]);
    for (int64_t j = 0; j < n; ++j) z += std::exp(x[r * n + j] - m);
    for (int64_t j = 0; j < n; ++j) {
      out[r * n + j] = log ? x[r * n + j] - m - std::log(z) : std::exp(x[r * n + j] - m) / z;
    }
  }
  return out;
}

TEST(SoftmaxTest, SoftmaxAndLogSoftmaxOnRandomShapes) {
  std::mt19937 rng(1);
  for (bool log : {false, true}) {
    for (int trial = 0; trial < 4; ++trial) {
      const Shape shape = testing::RandomShape(rng, 1 + trial % 3, 6);
      const Tensor x = testing::RandomTensor(rng, shape, -3.f, 3.f);
      CheckOp({x}, [&](const std::vector<Tensor>& in) { return log ? LogSoftmax(in[0]) : Softmax(in[0]); },
              [&](const std::vector<Doubles>& in) { return SoftmaxRef(in[0], shape.back(), log); });
    }
  }
}

TEST(SoftmaxTest, LargeLogitsStayFinite) {
  const std::vector<float> y = Softmax(Tensor::FromVector({1000.f, 1000.f, -1000.f}, {3})).ToVector();
  EXPECT_FLOAT_EQ(y[0], 0.5f);
  EXPECT_FLOAT_EQ(y[2], 0.f);
  const std::vector<float> ly = LogSoftmax(Tensor::FromVector({1000.f, 0.f}, {2})).ToVector();
  EXPECT_FLOAT_EQ(ly[0], 0.f);
  EXPECT_FLOAT_EQ(ly[1], -1000.f);
}

}  // namespace
}  // namespace onemodel::ops
