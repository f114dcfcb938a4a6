#include "model/conv_block.h"

#include "core/ops/ops.h"
#include "core/testing/gradcheck.h"
#include "gtest/gtest.h"

namespace onemodel::model {
namespace {

using onemodel::testing::CheckGradientsNumerically;
using onemodel::testing::CheckParameterGradients;
using onemodel::testing::RandomTensor;

TEST(ConvBlockTest, KeepsTheShapeWithDilatedSteps) {
  for (bool causal : {false, true}) {
    ConvBlock block(6, {{3, 1}, {3, 2}, {5, 4}}, causal, 1, 1);
    std::mt19937 rng(1);
    EXPECT_EQ(block.Forward(RandomTensor(rng, {2, 9, 6})).shape(), (Shape{2, 9, 6}));
  }
}

TEST(ConvBlockTest, CausalBlockIgnoresTheFuture) {
  ConvBlock block(4, {{3, 1}, {3, 2}}, /*causal=*/true, 2, 1);
  std::mt19937 rng(2);
  Tensor x = RandomTensor(rng, {1, 7, 4});
  const std::vector<float> before = block.Forward(x).ToVector();
  x.data<float>()[6 * 4 + 1] += 1.f;  // the last step
  const std::vector<float> after = block.Forward(x).ToVector();
  for (int i = 0; i < 6 * 4; ++i) EXPECT_EQ(before[i], after[i]) << i;
  // A non-causal block lets the change reach earlier positions.
  ConvBlock open(4, {{3, 1}, {3, 2}}, /*causal=*/false, 2, 1);
  Tensor y = RandomTensor(rng, {1, 7, 4});
  const std::vector<float> b2 = open.Forward(y).ToVector();
  y.data<float>()[6 * 4 + 1] += 1.f;
  EXPECT_NE(b2[5 * 4], open.Forward(y).ToVector()[5 * 4]);
}

TEST(ConvBlockTest, Gradients) {
  // Width 8 keeps layer norm's curvature moderate for f32 finite differences; ReLU kinks are the reason
  // for the small step.
  ConvBlock block(8, {{3, 1}, {3, 2}}, /*causal=*/false, 3, 1);
  std::mt19937 rng(3);
  const Tensor x = RandomTensor(rng, {2, 5, 8});
  CheckGradientsNumerically({x}, [&](const std::vector<Tensor>& in) { return block.Forward(in[0]); }, 5e-4);
  const Tensor r = RandomTensor(rng, {2, 5, 8});
  CheckParameterGradients(block.NamedParameters(),
                          [&] { return ops::SumAll(ops::Mul(block.Forward(x), r)); }, 5e-4);
}

}  // namespace
}  // namespace onemodel::model
