#include "core/ops/reduce.h"

#include <limits>

#include "core/ops/axis.h"
#include "core/testing/gradcheck.h"
#include "gtest/gtest.h"

namespace onemodel::ops {
namespace {

using testing::CheckOp;
using testing::Doubles;

enum class Kind { kSum, kMean, kMax };

Doubles ReduceRef(const Doubles& x, const Shape& shape, int axis, Kind kind) {
  const AxisSplit s = SplitAt("ref", shape, axis);
  Doubles out(s.outer * s.inner);
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t i = 0; i < s.inner; ++i) {
      double acc = kind == Kind::kMax ? -std::numeric_limits<double>::infinity() : 0.0;
      for (int64_t j = 0; j < s.n; ++j) {
        const double v = x[(o * s.n + j) * s.inner + i];
        acc = kind == Kind::kMax ? std::max(acc, v) : acc + v;
      }
      out[o * s.inner + i] = kind == Kind::kMean ? acc / s.n : acc;
    }
  }
  return out;
}

TEST(ReduceTest, SumMeanMaxOverEveryAxis) {
  std::mt19937 rng(1);
  for (Kind kind : {Kind::kSum, Kind::kMean, Kind::kMax}) {
    for (int axis = -3; axis < 3; ++axis) {
      const Shape shape = testing::RandomShape(rng, 3);
      const bool keepdim = axis % 2 == 0;
      SCOPED_TRACE(::testing::Message() << "kind " << static_cast<int>(kind) << " axis " << axis << " shape "
                                        << ShapeToString(shape));
      CheckOp({testing::RandomTensor(rng, shape)},
              [&](const std::vector<Tensor>& in) {
                Tensor y = kind == Kind::kSum ? Sum(in[0], axis, keepdim)
                           : kind == Kind::kMean ? Mean(in[0], axis, keepdim)
                                                 : Max(in[0], axis, keepdim);
                const int a = axis < 0 ? axis + 3 : axis;
                EXPECT_EQ(y.shape(), ReducedShape(shape, a, keepdim));
                return y;
              },
              [&](const std::vector<Doubles>& in) { return ReduceRef(in[0], shape, axis, kind); });
    }
  }
}

TEST(ReduceTest, SumAllAndMeanAll) {
  std::mt19937 rng(2);
  const Shape shape = {2, 1, 3};
  CheckOp({testing::RandomTensor(rng, shape)}, [](const std::vector<Tensor>& in) { return SumAll(in[0]); },
          [](const std::vector<Doubles>& in) {
            double s = 0;
            for (double v : in[0]) s += v;
            return Doubles{s};
          });
  CheckOp({testing::RandomTensor(rng, shape)}, [](const std::vector<Tensor>& in) { return MeanAll(in[0]); },
          [](const std::vector<Doubles>& in) {
            double s = 0;
            for (double v : in[0]) s += v;
            return Doubles{s / in[0].size()};
          });
}

}  // namespace
}  // namespace onemodel::ops
