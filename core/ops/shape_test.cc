#include "core/ops/shape.h"

#include "core/ops/axis.h"
#include "core/testing/gradcheck.h"
#include "gtest/gtest.h"

namespace onemodel::ops {
namespace {

using testing::CheckOp;
using testing::Doubles;

TEST(ShapeTest, ReshapeAndSliceAreViewsWithGradients) {
  std::mt19937 rng(1);
  const Tensor x = testing::RandomTensor(rng, {4, 3});
  EXPECT_EQ(Reshape(x, {3, -1}).raw_data(), x.raw_data());
  EXPECT_EQ(Slice(x, 1, 3).raw_data(), static_cast<float*>(x.raw_data()) + 3);
  CheckOp({x}, [](const std::vector<Tensor>& in) { return Reshape(in[0], {2, 1, -1}); },
          [](const std::vector<Doubles>& in) { return in[0]; });
  CheckOp({x}, [](const std::vector<Tensor>& in) { return Slice(in[0], 1, 3); },
          [](const std::vector<Doubles>& in) { return Doubles(in[0].begin() + 3, in[0].begin() + 9); });
}

// Reference for pieces of x along an axis: piece p covers [starts[p], starts[p] + sizes[p]).
Doubles TakeAlong(const Doubles& x, const Shape& shape, int axis, int64_t begin, int64_t size) {
  const AxisSplit s = SplitAt("ref", shape, axis);
  Doubles out;
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t j = begin; j < begin + size; ++j) {
      for (int64_t i = 0; i < s.inner; ++i) out.push_back(x[(o * s.n + j) * s.inner + i]);
    }
  }
  return out;
}

TEST(ShapeTest, ConcatSplitNarrowOnEveryAxis) {
  std::mt19937 rng(2);
  for (int axis = 0; axis < 3; ++axis) {
    Shape a_shape = testing::RandomShape(rng, 3), b_shape = a_shape;
    b_shape[axis] = 1 + rng() % 3;
    CheckOp({testing::RandomTensor(rng, a_shape), testing::RandomTensor(rng, b_shape)},
            [&](const std::vector<Tensor>& in) { return Concat({in[0], in[1]}, axis); },
            [&](const std::vector<Doubles>& in) {
              // Interleave per outer index: a's run then b's run.
              const AxisSplit sa = SplitAt("ref", a_shape, axis), sb = SplitAt("ref", b_shape, axis);
              Doubles out;
              for (int64_t o = 0; o < sa.outer; ++o) {
                out.insert(out.end(), in[0].begin() + o * sa.n * sa.inner, in[0].begin() + (o + 1) * sa.n * sa.inner);
                out.insert(out.end(), in[1].begin() + o * sb.n * sb.inner, in[1].begin() + (o + 1) * sb.n * sb.inner);
              }
              return out;
            });
    Shape x_shape = a_shape;
    x_shape[axis] = 4;
    CheckOp({testing::RandomTensor(rng, x_shape)},
            [&](const std::vector<Tensor>& in) {
              std::vector<Tensor> parts = Split(in[0], {1, 3}, axis);
              // Use both pieces so both gradients flow: concat them in reverse order.
              return Concat({parts[1], parts[0]}, axis);
            },
            [&](const std::vector<Doubles>& in) {
              Doubles hi = TakeAlong(in[0], x_shape, axis, 1, 3), lo = TakeAlong(in[0], x_shape, axis, 0, 1);
              // Reassemble [hi, lo] along the axis.
              Shape hi_shape = x_shape, lo_shape = x_shape;
              hi_shape[axis] = 3;
              lo_shape[axis] = 1;
              const AxisSplit sh = SplitAt("ref", hi_shape, axis), sl = SplitAt("ref", lo_shape, axis);
              Doubles out;
              for (int64_t o = 0; o < sh.outer; ++o) {
                out.insert(out.end(), hi.begin() + o * 3 * sh.inner, hi.begin() + (o + 1) * 3 * sh.inner);
                out.insert(out.end(), lo.begin() + o * sl.inner, lo.begin() + (o + 1) * sl.inner);
              }
              return out;
            });
    CheckOp({testing::RandomTensor(rng, x_shape)}, [&](const std::vector<Tensor>& in) { return Narrow(in[0], axis, 1, 3); },
            [&](const std::vector<Doubles>& in) { return TakeAlong(in[0], x_shape, axis, 1, 2); });
  }
}

TEST(ShapeTest, SwapAxes12) {
  std::mt19937 rng(4);
  for (const Shape& shape : {Shape{2, 3, 4, 5}, Shape{1, 7, 2, 1}, Shape{3, 1, 3, 2}, Shape{2, 33, 3, 40}}) {
    const int64_t a = shape[0], b = shape[1], c = shape[2], d = shape[3];
    CheckOp({testing::RandomTensor(rng, shape)}, [](const std::vector<Tensor>& in) { return SwapAxes12(in[0]); },
            [&](const std::vector<Doubles>& in) {
              Doubles out(in[0].size());
              for (int64_t i = 0; i < a; ++i)
                for (int64_t j = 0; j < b; ++j)
                  for (int64_t k = 0; k < c; ++k)
                    for (int64_t l = 0; l < d; ++l) out[((i * c + k) * b + j) * d + l] = in[0][((i * b + j) * c + k) * d + l];
              return out;
            });
  }
}

TEST(ShapeTest, TransposeLast2) {
  std::mt19937 rng(3);
  // Includes sizes that cross the 32-wide tiles of the blocked kernel, and size-1 dims.
  for (const Shape& shape : {Shape{35, 33}, Shape{2, 1, 34}, Shape{3, 5, 1}}) {
    const int64_t r = shape[shape.size() - 2], c = shape.back();
    CheckOp({testing::RandomTensor(rng, shape)}, [](const std::vector<Tensor>& in) { return TransposeLast2(in[0]); },
            [&](const std::vector<Doubles>& in) {
              Doubles out(in[0].size());
              for (size_t b = 0; b < in[0].size() / (r * c); ++b) {
                for (int64_t i = 0; i < r; ++i) {
                  for (int64_t j = 0; j < c; ++j) out[b * r * c + j * r + i] = in[0][b * r * c + i * c + j];
                }
              }
              return out;
            });
  }
}

TEST(ShapeDeathTest, BadReshapeNamesShapes) {
  EXPECT_DEATH(Reshape(Tensor::Zeros({2, 3}), {4, 2}), "reshape \\[2, 3\\] -> \\[4, 2\\]: sizes differ");
  EXPECT_DEATH(Concat({Tensor::Zeros({2, 3}), Tensor::Zeros({2, 4})}, 0), "Concat: shapes \\[2, 3\\] and \\[2, 4\\] differ");
}

}  // namespace
}  // namespace onemodel::ops
