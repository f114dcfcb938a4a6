#include "core/optim.h"

#include <algorithm>
#include <cmath>

#include "gtest/gtest.h"

namespace onemodel {
namespace {

NamedTensors OneParam(float value, float grad) {
  Tensor p = Tensor::FromVector({value}, {1}).set_requires_grad(true);
  p.AccumulateGrad(Tensor::FromVector({grad}, {1}));
  return {{"p", p}};
}

TEST(OptimTest, SgdMomentumAndNesterovFollowPyTorchFormulas) {
  // Two steps with constant gradient g = 1, lr = 0.1, momentum 0.9.
  NamedTensors plain = OneParam(1.f, 1.f);
  Sgd sgd(plain, {0.9f, false, 0.f});
  sgd.Step(0.1f);  // v = 1, w = 0.9
  sgd.Step(0.1f);  // v = 1.9, w = 0.71
  EXPECT_NEAR(plain[0].second.item(), 0.71f, 1e-6);
  NamedTensors nesterov = OneParam(1.f, 1.f);
  Sgd nag(nesterov, {0.9f, true, 0.f});
  nag.Step(0.1f);  // v = 1, d = 1 + 0.9 = 1.9, w = 0.81
  nag.Step(0.1f);  // v = 1.9, d = 1 + 1.71 = 2.71, w = 0.539
  EXPECT_NEAR(nesterov[0].second.item(), 0.539f, 1e-6);
}

TEST(OptimTest, MovingAverageWarmsItsDecayUpAndSwapsBothWays) {
  NamedTensors p = OneParam(0.f, 0.f);
  ExponentialMovingAverage average(p, 0.5f);
  Tensor w = p[0].second;
  float expected = 0.f;  // the average starts at the initial weights
  for (int t = 1; t <= 20; ++t) {
    w.CopyFrom(Tensor::FromVector({static_cast<float>(t)}, {1}));  // the weights after step t
    average.Update();
    const float d = std::min(0.5f, (1.f + t) / (10.f + t));  // 2/11 at t = 1; 0.5 from t = 9 on
    expected = d * expected + (1 - d) * t;
  }
  EXPECT_NEAR(expected, 19.f, 1e-3);  // the average lags the weights (20) by d / (1 - d) = 1 step
  average.Swap();
  EXPECT_NEAR(w.item(), expected, 1e-5);
  average.Swap();
  EXPECT_EQ(w.item(), 20.f);
  const NamedTensors state = average.State();
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state[0].first, "ema.p");
  EXPECT_NEAR(state[0].second.item(), expected, 1e-5);
  EXPECT_EQ(state[1].first, "ema.updates");
  EXPECT_EQ(state[1].second.item(), 20.f);
  const NamedTensors named = ExponentialMovingAverage::AsAverages(p);  // the weights under their averages' names
  ASSERT_EQ(named.size(), 1u);
  EXPECT_EQ(named[0].first, state[0].first);
  EXPECT_EQ(named[0].second.item(), 20.f);
  average.Restart();
  EXPECT_EQ(average.State()[0].second.item(), 20.f);
  EXPECT_EQ(average.State()[1].second.item(), 0.f);
}

TEST(OptimTest, AdamFirstStepMovesByLr) {
  NamedTensors p = OneParam(1.f, 0.3f);
  Adam adam(p, {});
  adam.Step(0.01f);  // bias-corrected m / sqrt(v) = sign(g)
  EXPECT_NEAR(p[0].second.item(), 0.99f, 1e-6);
  EXPECT_EQ(adam.State().size(), 3u);  // m, v, step
}

TEST(OptimTest, AdamWDecaysWeightsApartFromTheGradient) {
  NamedTensors p = OneParam(2.f, 0.f);
  AdamOptions o;
  o.weight_decay = 0.1f;
  o.decoupled_weight_decay = true;
  Adam adamw(p, o);
  adamw.Step(0.5f);  // w -= lr * wd * w, and a zero gradient moves nothing else
  EXPECT_NEAR(p[0].second.item(), 2.f - 0.5f * 0.1f * 2.f, 1e-6);
}

TEST(OptimTest, WeightDecayPerParameterReplacesTheOptions) {
  NamedTensors p = OneParam(2.f, 0.f);
  p.emplace_back("b", Tensor::FromVector({2.f}, {1}).set_requires_grad(true));
  p.back().second.AccumulateGrad(Tensor::FromVector({0.f}, {1}));
  AdamOptions o;
  o.weight_decay = 0.1f;
  o.decoupled_weight_decay = true;
  Adam adamw(p, o, {0.f, 0.4f});
  adamw.Step(0.5f);
  EXPECT_NEAR(p[0].second.item(), 2.f, 1e-6);  // no decay for the first
  EXPECT_NEAR(p[1].second.item(), 2.f - 0.5f * 0.4f * 2.f, 1e-6);
  Sgd sgd(p, {0.f, false, 0.1f}, {0.25f, 0.f});  // L2 in the gradient: w -= lr * wd * w
  sgd.Step(1.f);
  EXPECT_NEAR(p[0].second.item(), 2.f - 0.25f * 2.f, 1e-6);
  EXPECT_NEAR(p[1].second.item(), 1.6f, 1e-6);
}

TEST(OptimTest, AdamMinimizesAQuadratic) {
  Tensor w = Tensor::FromVector({5.f, -3.f}, {2}).set_requires_grad(true);
  Adam adam({{"w", w}}, {});
  for (int i = 0; i < 2000; ++i) {
    w.ZeroGrad();
    w.AccumulateGrad(Tensor::FromVector({2 * w.ToVector()[0], 2 * w.ToVector()[1]}, {2}));
    adam.Step(0.05f);
  }
  EXPECT_NEAR(w.ToVector()[0], 0.f, 1e-2);
  EXPECT_NEAR(w.ToVector()[1], 0.f, 1e-2);
}

TEST(OptimTest, ClipGradNormScalesToTheBound) {
  Tensor a = Tensor::FromVector({3.f}, {1}).set_requires_grad(true);
  Tensor b = Tensor::FromVector({0.f}, {1}).set_requires_grad(true);
  a.AccumulateGrad(Tensor::FromVector({3.f}, {1}));
  b.AccumulateGrad(Tensor::FromVector({4.f}, {1}));
  EXPECT_NEAR(ClipGradNorm({a, b}, 1.f), 5.f, 1e-6);
  EXPECT_NEAR(a.grad().item(), 0.6f, 1e-5);
  EXPECT_NEAR(b.grad().item(), 0.8f, 1e-5);
}

TEST(OptimTest, Schedules) {
  LrSchedule constant{LrSchedule::Kind::kConstant, 1.f, 10};
  EXPECT_FLOAT_EQ(constant.At(5), 0.5f);  // warmup
  EXPECT_FLOAT_EQ(constant.At(50), 1.f);
  LrSchedule noam{LrSchedule::Kind::kWarmupRsqrt, 1.f, 100};
  EXPECT_FLOAT_EQ(noam.At(100), 1.f);
  EXPECT_FLOAT_EQ(noam.At(400), 0.5f);
  LrSchedule cosine{LrSchedule::Kind::kCosine, 1.f, 0, 100, 0.1f};
  EXPECT_FLOAT_EQ(cosine.At(0), 1.f);
  EXPECT_NEAR(cosine.At(50), 0.55f, 1e-6);
  EXPECT_NEAR(cosine.At(100), 0.1f, 1e-6);
  EXPECT_NEAR(cosine.At(1000), 0.1f, 1e-6);
}

}  // namespace
}  // namespace onemodel
