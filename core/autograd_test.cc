#include "core/autograd.h"

#include "core/ops/ops.h"
#include "gtest/gtest.h"

namespace onemodel {
namespace {

TEST(AutogradTest, SharedSubexpressionGradientsAdd) {
  // y = sum(x * x + x): dy/dx = 2x + 1, with x used three times.
  Tensor x = Tensor::FromVector({1.f, -2.f, 3.f}, {3}).set_requires_grad(true);
  ops::SumAll(ops::Add(ops::Mul(x, x), x)).Backward();
  EXPECT_EQ(x.grad().ToVector(), (std::vector<float>{3.f, -3.f, 7.f}));
}

TEST(AutogradTest, LeafGradientsAccumulateAcrossBackwardCalls) {
  Tensor x = Tensor::FromVector({1.f, 2.f}, {2}).set_requires_grad(true);
  ops::SumAll(ops::Scale(x, 3.f)).Backward();
  ops::SumAll(ops::Scale(x, 3.f)).Backward();
  EXPECT_EQ(x.grad().ToVector(), (std::vector<float>{6.f, 6.f}));
  x.ZeroGrad();
  EXPECT_FALSE(x.grad().defined());
}

TEST(AutogradTest, GradientsSharedBetweenInputsStayIndependent) {
  // Add hands the same gradient tensor to both inputs; accumulating into one must not change the other.
  Tensor a = Tensor::FromVector({1.f}, {1}).set_requires_grad(true);
  Tensor b = Tensor::FromVector({2.f}, {1}).set_requires_grad(true);
  ops::SumAll(ops::Add(a, b)).Backward();
  ops::SumAll(ops::Scale(a, 5.f)).Backward();
  EXPECT_EQ(a.grad().item(), 6.f);
  EXPECT_EQ(b.grad().item(), 1.f);
}

TEST(AutogradTest, NoGradScopeRecordsNothing) {
  Tensor x = Tensor::FromVector({1.f}, {1}).set_requires_grad(true);
  {
    NoGradScope no_grad;
    EXPECT_FALSE(ops::Scale(x, 2.f).requires_grad());
  }
  EXPECT_TRUE(ops::Scale(x, 2.f).requires_grad());
}

TEST(AutogradTest, InputsWithoutGradGetNone) {
  Tensor w = Tensor::FromVector({2.f}, {1, 1}).set_requires_grad(true);
  const Tensor data = Tensor::FromVector({3.f}, {1, 1});
  ops::SumAll(ops::MatMul(data, w)).Backward();
  EXPECT_EQ(w.grad().item(), 3.f);
  EXPECT_FALSE(data.grad().defined());
}

TEST(AutogradTest, DeepChainDoesNotOverflowTheStack) {
  Tensor x = Tensor::FromVector({1.f}, {1}).set_requires_grad(true);
  Tensor y = x;
  for (int i = 0; i < 100000; ++i) y = ops::AddScalar(y, 0.f);
  ops::SumAll(y).Backward();
  EXPECT_EQ(x.grad().item(), 1.f);
}

TEST(AutogradDeathTest, BackwardNeedsAScalar) {
  Tensor x = Tensor::FromVector({1.f, 2.f}, {2}).set_requires_grad(true);
  EXPECT_DEATH(ops::Scale(x, 2.f).Backward(), "Backward\\(\\) needs a scalar, got shape \\[2\\]");
}

}  // namespace
}  // namespace onemodel
