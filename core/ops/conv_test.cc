#include "core/ops/conv.h"

#include "core/ops/depthwise_avx512.h"
#include "core/ops/reduce.h"
#include "core/testing/gradcheck.h"
#include "gtest/gtest.h"

namespace onemodel::ops {
namespace {

using testing::CheckOp;
using testing::Doubles;

// Straightforward depthwise conv: out[b,y,x,c] = sum_{i,j} in[b, y*s - pt + i*d, x*s - pl + j*d, c] w[i,j,c].
Doubles DepthwiseRef(const Doubles& in, const Doubles& w, int64_t b, int64_t h, int64_t wd, int64_t c, int64_t kh,
                     int64_t kw, const Conv2dOptions& o, int64_t oh, int64_t ow) {
  Doubles out(b * oh * ow * c, 0.0);
  for (int64_t n = 0; n < b; ++n)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x = 0; x < ow; ++x)
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t j = 0; j < kw; ++j) {
            const int64_t iy = y * o.stride_h - o.pad_top + i * o.dilation_h;
            const int64_t ix = x * o.stride_w - o.pad_left + j * o.dilation_w;
            if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
            for (int64_t ch = 0; ch < c; ++ch) {
              out[((n * oh + y) * ow + x) * c + ch] += in[((n * h + iy) * wd + ix) * c + ch] * w[(i * kw + j) * c + ch];
            }
          }
  return out;
}

TEST(ConvTest, Depthwise2dStridePaddingDilation) {
  std::mt19937 rng(1);
  for (int trial = 0; trial < 6; ++trial) {
    const Shape bc = testing::RandomShape(rng, 2, 3);
    const int64_t b = bc[0], c = bc[1], h = 4 + rng() % 4, w = 4 + rng() % 4;
    const int64_t kh = 1 + rng() % 3, kw = 1 + rng() % 3;
    Conv2dOptions o;
    o.stride_h = 1 + trial % 2;
    o.stride_w = 1 + (trial / 2) % 2;
    o.dilation_h = 1 + (trial == 4);
    o.dilation_w = 1 + (trial == 5);
    o.pad_top = trial % 3;
    o.pad_bottom = (trial + 1) % 2;
    o.pad_left = trial % 2;
    o.pad_right = trial % 3;
    const int64_t oh = WindowOutputSize("t", h, kh, o.stride_h, o.pad_top, o.pad_bottom, o.dilation_h);
    const int64_t ow = WindowOutputSize("t", w, kw, o.stride_w, o.pad_left, o.pad_right, o.dilation_w);
    SCOPED_TRACE(::testing::Message() << "trial " << trial);
    CheckOp({testing::RandomTensor(rng, {b, h, w, c}), testing::RandomTensor(rng, {kh, kw, c})},
            [&](const std::vector<Tensor>& in) { return DepthwiseConv2d(in[0], in[1], o); },
            [&](const std::vector<Doubles>& in) { return DepthwiseRef(in[0], in[1], b, h, w, c, kh, kw, o, oh, ow); });
  }
}

// Whole vectors of 16 channels take the AVX-512 path where the CPU has it (core/ops/depthwise_avx512.h): 3-tap
// and 3x3 kernels, strides and dilations along both axes, padding on every side, narrow rows where no column is
// interior; strided widths (the input gradient by residue class of columns) with left padding 0, 1 and 2, dilation,
// stride 3, a class with no tap and a width below the stride; the trunk's causal 1-D conv with dilation 2; no channels.
TEST(ConvTest, DepthwiseVectorPathMatchesReference) {
  std::mt19937 rng(7);
  const int64_t kernels[][2] = {{3, 3}, {3, 1}, {1, 3}};
  for (int trial = 0; trial < 15; ++trial) {
    const int64_t b = 2, c = 16 * (1 + trial % 2), h = 3 + trial % 6, w = trial == 5 || trial == 14 ? 2 : 5 + trial / 6;
    const int64_t kh = kernels[trial % 3][0], kw = kernels[trial % 3][1];
    Conv2dOptions o;
    o.stride_h = 1 + (trial == 3 || trial == 8 || trial == 9);
    o.stride_w = trial >= 11 ? 3 : 1 + (trial >= 6);
    o.dilation_h = 1 + (trial == 4);
    o.dilation_w = 1 + (trial == 2 || trial == 12);
    o.pad_top = 1;
    o.pad_bottom = trial % 2;
    o.pad_left = trial == 9 ? 0 : 1 + (trial == 2 || trial == 10 || trial == 12);
    o.pad_right = trial % 3;
    const int64_t oh = WindowOutputSize("t", h, kh, o.stride_h, o.pad_top, o.pad_bottom, o.dilation_h);
    const int64_t ow = WindowOutputSize("t", w, kw, o.stride_w, o.pad_left, o.pad_right, o.dilation_w);
    const DepthwiseGeometry g{b, h, w, c, kh, kw, oh, ow};
    SCOPED_TRACE(::testing::Message() << "trial " << trial << ", AVX-512 path: " << DepthwiseAvx512Applies(g, o));
    CheckOp({testing::RandomTensor(rng, {b, h, w, c}), testing::RandomTensor(rng, {kh, kw, c})},
            [&](const std::vector<Tensor>& in) { return DepthwiseConv2d(in[0], in[1], o); },
            [&](const std::vector<Doubles>& in) { return DepthwiseRef(in[0], in[1], b, h, w, c, kh, kw, o, oh, ow); });
  }
  Conv1dOptions causal;
  causal.causal = true;
  causal.dilation = 2;
  Conv2dOptions as_2d;
  as_2d.dilation_h = 2;
  as_2d.pad_top = 4;
  CheckOp({testing::RandomTensor(rng, {2, 7, 32}), testing::RandomTensor(rng, {3, 32})},
          [&](const std::vector<Tensor>& in) { return DepthwiseConv1d(in[0], in[1], causal); },
          [&](const std::vector<Doubles>& in) { return DepthwiseRef(in[0], in[1], 2, 7, 1, 32, 3, 1, as_2d, 7, 1); });
  // No channels (a multiple of 16 too): empty output and gradients, no division by the empty rows' size.
  const Tensor none = Tensor::Zeros({2, 5, 6, 0}).set_requires_grad(true);
  const Tensor none_w = Tensor::Zeros({3, 3, 0}).set_requires_grad(true);
  Conv2dOptions halving;
  halving.stride_h = halving.stride_w = 2;
  halving.pad_top = halving.pad_bottom = halving.pad_left = halving.pad_right = 1;
  const Tensor y = DepthwiseConv2d(none, none_w, halving);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 3, 0}));
  SumAll(y).Backward();
  EXPECT_EQ(none.grad().shape(), none.shape());
  EXPECT_EQ(none_w.grad().shape(), none_w.shape());
}

TEST(ConvTest, Depthwise1dCausalSeesOnlyThePast) {
  std::mt19937 rng(2);
  const int64_t b = 2, t = 6, c = 3, k = 3;
  for (int64_t dilation : {1, 2}) {
    Conv1dOptions o;
    o.causal = true;
    o.dilation = dilation;
    Conv2dOptions o2;
    o2.pad_top = (k - 1) * dilation;
    o2.dilation_h = dilation;
    CheckOp({testing::RandomTensor(rng, {b, t, c}), testing::RandomTensor(rng, {k, c})},
            [&](const std::vector<Tensor>& in) {
              Tensor y = DepthwiseConv1d(in[0], in[1], o);
              EXPECT_EQ(y.shape(), (Shape{b, t, c}));
              return y;
            },
            [&](const std::vector<Doubles>& in) { return DepthwiseRef(in[0], in[1], b, t, 1, c, k, 1, o2, t, 1); });
  }
  // Changing the last input step leaves every earlier output unchanged.
  Conv1dOptions causal;
  causal.causal = true;
  Tensor x = testing::RandomTensor(rng, {1, 5, 2});
  const Tensor w = testing::RandomTensor(rng, {3, 2});
  const std::vector<float> before = DepthwiseConv1d(x, w, causal).ToVector();
  x.data<float>()[4 * 2] += 1.f;
  const std::vector<float> after = DepthwiseConv1d(x, w, causal).ToVector();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(before[i], after[i]) << i;
  EXPECT_NE(before[8], after[8]);
}

TEST(ConvTest, SeparableConv1dAnd2d) {
  std::mt19937 rng(3);
  const int64_t b = 2, t = 5, cin = 3, cout = 4, k = 3;
  Conv1dOptions o1;
  o1.padding = 1;
  o1.stride = 2;
  Conv2dOptions o1_as_2d;
  o1_as_2d.pad_top = o1_as_2d.pad_bottom = 1;
  o1_as_2d.stride_h = 2;
  const int64_t ot = 3;
  auto separable_ref = [&](const std::vector<Doubles>& in, const Doubles& depthwise, int64_t pixels) {
    Doubles out(pixels * cout);
    for (int64_t p = 0; p < pixels; ++p)
      for (int64_t o = 0; o < cout; ++o) {
        double s = in[3][o];
        for (int64_t i = 0; i < cin; ++i) s += depthwise[p * cin + i] * in[2][i * cout + o];
        out[p * cout + o] = s;
      }
    return out;
  };
  CheckOp({testing::RandomTensor(rng, {b, t, cin}), testing::RandomTensor(rng, {k, cin}),
           testing::RandomTensor(rng, {cin, cout}), testing::RandomTensor(rng, {cout})},
          [&](const std::vector<Tensor>& in) { return SeparableConv1d(in[0], in[1], in[2], in[3], o1); },
          [&](const std::vector<Doubles>& in) {
            return separable_ref(in, DepthwiseRef(in[0], in[1], b, t, 1, cin, k, 1, o1_as_2d, ot, 1), b * ot);
          });
  Conv2dOptions o2;
  o2.pad_top = o2.pad_bottom = o2.pad_left = o2.pad_right = 1;
  CheckOp({testing::RandomTensor(rng, {1, 4, 4, cin}), testing::RandomTensor(rng, {3, 3, cin}),
           testing::RandomTensor(rng, {cin, cout}), testing::RandomTensor(rng, {cout})},
          [&](const std::vector<Tensor>& in) { return SeparableConv2d(in[0], in[1], in[2], in[3], o2); },
          [&](const std::vector<Doubles>& in) {
            return separable_ref(in, DepthwiseRef(in[0], in[1], 1, 4, 4, cin, 3, 3, o2, 4, 4), 16);
          });
}

TEST(ConvDeathTest, WindowLargerThanInputIsNamed) {
  EXPECT_DEATH(DepthwiseConv2d(Tensor::Zeros({1, 2, 2, 1}), Tensor::Zeros({3, 3, 1}), {}),
               "DepthwiseConv2d \\(height\\): window of 3 does not fit an input of 2");
}

}  // namespace
}  // namespace onemodel::ops
