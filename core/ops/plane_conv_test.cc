#include "core/ops/plane_conv.h"

#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "core/testing/gradcheck.h"
#include "gtest/gtest.h"

namespace onemodel::ops {
namespace {

using testing::CheckOp;
using testing::Doubles;

// relu(bias[c] + sum_{i,j} x[p, y+i-1, x+j-1] w[i,j,c]) with rows >= rows[p] read as zeros and written as zeros.
Doubles PlaneConvRef(const Doubles& in, const Doubles& w, const Doubles& bias, int64_t b, int64_t h, int64_t wd,
                     int64_t c, const std::vector<int64_t>& rows) {
  Doubles out(b * h * wd * c, 0.0);
  for (int64_t p = 0; p < b; ++p) {
    const int64_t real = rows.empty() ? h : std::min(rows[p], h);
    for (int64_t y = 0; y < real; ++y)
      for (int64_t x = 0; x < wd; ++x)
        for (int64_t ch = 0; ch < c; ++ch) {
          double sum = bias[ch];
          for (int64_t i = 0; i < 3; ++i)
            for (int64_t j = 0; j < 3; ++j) {
              const int64_t iy = y + i - 1, ix = x + j - 1;
              if (iy < 0 || iy >= real || ix < 0 || ix >= wd) continue;
              sum += in[(p * h + iy) * wd + ix] * w[(i * 3 + j) * c + ch];
            }
          out[((p * h + y) * wd + x) * c + ch] = std::max(sum, 0.0);
        }
  }
  return out;
}

// Channel counts for each kernel width (1, 16 and 32 lanes), narrow and wide planes, with and without rows.
TEST(PlaneConvTest, MatchesReferenceAndFiniteDifferences) {
  std::mt19937 rng(3);
  const int64_t channels[] = {3, 16, 32, 64};
  for (int trial = 0; trial < 8; ++trial) {
    const int64_t b = 1 + trial % 3, h = 1 + rng() % 6, w = 1 + rng() % 7, c = channels[trial % 4];
    std::vector<int64_t> rows;
    if (trial >= 4) {
      for (int64_t p = 0; p < b; ++p) rows.push_back(static_cast<int64_t>(rng() % (h + 2)));
    }
    SCOPED_TRACE(::testing::Message() << "trial " << trial << ": " << b << "x" << h << "x" << w << "x" << c);
    CheckOp({testing::RandomTensor(rng, {b, h, w}), testing::RandomTensor(rng, {3, 3, c}),
             testing::RandomTensor(rng, {c}, -0.5f, 0.5f)},
            [&](const std::vector<Tensor>& in) { return PlaneConv3x3Relu(in[0], in[1], in[2], rows); },
            [&](const std::vector<Doubles>& in) { return PlaneConvRef(in[0], in[1], in[2], b, h, w, c, rows); });
  }
}

// The composition CUDA runs gives the same outputs and gradients on the CPU: rows below zero, inside and past the
// plane; the plane with a gradient and without one (the stems' case: the op then computes none for it).
TEST(PlaneConvTest, ComposedOpsAgree) {
  std::mt19937 rng(5);
  const std::vector<int64_t> rows = {9, 4, 20, -2};
  const Tensor x = testing::RandomTensor(rng, {4, 9, 12});
  const Tensor r = testing::RandomTensor(rng, {4, 9, 12, 32});
  const Tensor w0 = testing::RandomTensor(rng, {3, 3, 32}), b0 = testing::RandomTensor(rng, {32}, -0.5f, 0.5f);
  for (bool x_grad : {true, false}) {
    std::vector<std::vector<float>> results[2];
    for (int composed = 0; composed < 2; ++composed) {
      Tensor xg = x.Clone().set_requires_grad(x_grad);
      Tensor w = w0.Clone().set_requires_grad(true);
      Tensor bias = b0.Clone().set_requires_grad(true);
      const Tensor y = composed ? PlaneConv3x3ReluComposed(xg, w, bias, rows) : PlaneConv3x3Relu(xg, w, bias, rows);
      RunBackward(SumAll(Mul(y, r)));
      EXPECT_EQ(xg.grad().defined(), x_grad);
      results[composed] = {y.ToVector(), w.grad().ToVector(), bias.grad().ToVector()};
      if (x_grad) results[composed].push_back(xg.grad().ToVector());
    }
    for (size_t i = 0; i < results[0].size(); ++i) {
      ASSERT_EQ(results[0][i].size(), results[1][i].size());
      for (size_t k = 0; k < results[0][i].size(); ++k) {
        EXPECT_NEAR(results[0][i][k], results[1][i][k], 1e-5f * std::max(1.f, std::fabs(results[1][i][k])))
            << "x_grad " << x_grad << ", result " << i << " element " << k;
      }
    }
  }
}

// What the padding rows hold changes neither the real rows' outputs nor the weight and bias gradients; the padding
// rows' outputs are zero and their inputs get no gradient.
TEST(PlaneConvTest, PaddingRowsAreNotRead) {
  std::mt19937 rng(9);
  const std::vector<int64_t> rows = {5, 2};
  const Tensor x = testing::RandomTensor(rng, {2, 8, 6});
  Tensor noisy = x.Clone();
  float* p = static_cast<float*>(noisy.raw_data());
  for (int64_t plane = 0; plane < 2; ++plane) {
    for (int64_t i = rows[plane] * 6; i < 8 * 6; ++i) p[plane * 48 + i] += 100.f;
  }
  const Tensor w = testing::RandomTensor(rng, {3, 3, 16}), bias = testing::RandomTensor(rng, {16});
  std::vector<float> outs[2], grads[2];
  for (int k = 0; k < 2; ++k) {
    Tensor in = (k == 0 ? x : noisy).Clone().set_requires_grad(true);
    Tensor wk = w.Clone().set_requires_grad(true);
    const Tensor y = PlaneConv3x3Relu(in, wk, bias, rows);
    RunBackward(SumAll(y));
    outs[k] = y.ToVector();
    grads[k] = wk.grad().ToVector();
    const std::vector<float> gx = in.grad().ToVector();
    for (int64_t plane = 0; plane < 2; ++plane) {
      for (int64_t i = rows[plane] * 6; i < 8 * 6; ++i) EXPECT_EQ(gx[plane * 48 + i], 0.f);
      for (int64_t i = rows[plane] * 6 * 16; i < 8 * 6 * 16; ++i) EXPECT_EQ(outs[k][plane * 768 + i], 0.f);
    }
  }
  EXPECT_EQ(outs[0], outs[1]);
  EXPECT_EQ(grads[0], grads[1]);
}

TEST(PlaneConvDeathTest, ShapesAreChecked) {
  EXPECT_DEATH(PlaneConv3x3Relu(Tensor::Zeros({1, 4, 4}), Tensor::Zeros({3, 3, 8}), Tensor::Zeros({4})),
               "must be \\[B, H, W\\], \\[3, 3, C\\] and \\[C\\]");
  EXPECT_DEATH(PlaneConv3x3Relu(Tensor::Zeros({2, 4, 4}), Tensor::Zeros({3, 3, 8}), Tensor::Zeros({8}), {1}),
               "1 row counts for 2 planes");
}

}  // namespace
}  // namespace onemodel::ops
