#include "moe/router.h"

#include <algorithm>
#include <cmath>

#include "configs/config.h"
#include "core/autograd.h"
#include "core/ops/ops.h"
#include "core/testing/gradcheck.h"
#include "gtest/gtest.h"

namespace onemodel::moe {
namespace {

using onemodel::testing::CheckGradientsNumerically;
using onemodel::testing::CheckParameterGradients;
using onemodel::testing::RandomTensor;

config::RouterConfig Parse(const std::string& text) {
  auto e = ParseExperiment("moe { router { " + text + " } }", "test");
  CHECK(e.ok()) << e.status();
  return e->moe().router();
}

void Randomize(Router& router, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  for (auto& [_, p] : router.NamedParameters()) p.CopyFrom(RandomTensor(rng, p.shape(), -scale, scale));
}

TEST(RouterTest, TopKSoftmaxPicksTheLargestAndNormalizesOverThem) {
  const TopKGates g = TopKSoftmax(Tensor::FromVector({0.f, 3.f, 1.f, 2.f}, {1, 4}), 2);
  EXPECT_EQ(g.indices.ToIndices(), (std::vector<int64_t>{1, 3}));
  const std::vector<float> gates = g.gates.ToVector();
  EXPECT_NEAR(gates[0], 1 / (1 + std::exp(-1.f)), 1e-6);
  EXPECT_NEAR(gates[0] + gates[1], 1.f, 1e-6);
}

TEST(RouterTest, NoisyTopKIsDeterministicInEvalAndNoisyInTraining) {
  Router router(Parse("kind: NOISY_TOP_K top_k: 2"), 4, 6, 1, 1);
  Randomize(router, 1.f, 2);
  std::mt19937 rng(3);
  const Tensor x = RandomTensor(rng, {64, 4});
  NoGradScope no_grad;
  const Routing eval = router.Route(x, 1, false);
  const TopKGates clean = TopKSoftmax(ops::MatMul(x, router.NamedParameters()[0].second), 2);
  EXPECT_EQ(eval.expert.ToIndices(), FromTopK(clean, 6).expert.ToIndices());
  EXPECT_FALSE(eval.load_estimate.defined());
  const Routing a = router.Route(x, 1, true), b = router.Route(x, 1, true), c = router.Route(x, 2, true);
  EXPECT_EQ(a.expert.ToIndices(), b.expert.ToIndices());  // same step, same noise
  EXPECT_NE(a.expert.ToIndices(), c.expert.ToIndices());  // another step, other noise
  EXPECT_NE(a.expert.ToIndices(), eval.expert.ToIndices());
  // The smooth load estimate is a soft count of k assignments per token.
  double total = 0;
  for (float v : a.load_estimate.ToVector()) total += v;
  EXPECT_NEAR(total, 2 * 64, 0.25 * 2 * 64);
}

TEST(RouterTest, GatesStayInF32UnderBf16MixedPrecision) {
  Router router(Parse("kind: NOISY_TOP_K top_k: 2"), 16, 6, 1, 1);
  Randomize(router, 1.f, 4);
  std::mt19937 rng(5);
  const Tensor x = RandomTensor(rng, {32, 16});
  NoGradScope no_grad;
  const std::vector<float> f32 = router.SelectionLogits(x, 1, true).ToVector();
  const ops::MatmulPrecisionScope bf16(ops::MatmulPrecision::kBF16);
  EXPECT_EQ(router.SelectionLogits(x, 1, true).ToVector(), f32);
  EXPECT_NE(ops::MatMul(x, router.NamedParameters()[0].second).ToVector(), router.Logits(x).ToVector());
}

TEST(RouterTest, SmoothLoadEstimatorGradients) {
  Router router(Parse("kind: NOISY_TOP_K top_k: 2"), 3, 4, 1, 1);
  Randomize(router, 1.f, 4);
  std::mt19937 rng(5);
  const Tensor x = RandomTensor(rng, {6, 3});
  CheckGradientsNumerically({x}, [&](const std::vector<Tensor>& in) { return router.Route(in[0], 3, true).load_estimate; },
                            1e-3);
  CheckParameterGradients(router.NamedParameters(),
                          [&] { return ops::SumAll(ops::Cube(router.Route(x, 3, true).load_estimate)); }, 1e-3);
}

TEST(RouterTest, SwitchGateIsTheTopProbability) {
  Router router(Parse("kind: SWITCH top_k: 1"), 4, 5, 1, 1);
  std::mt19937 rng(6);
  const Tensor x = RandomTensor(rng, {20, 4}, -3.f, 3.f);
  const Routing r = router.Route(x, 1, false);
  const std::vector<float> p = r.probs.ToVector(), gates = r.gate.ToVector();
  const std::vector<int64_t> experts = r.expert.ToIndices();
  for (int t = 0; t < 20; ++t) {
    EXPECT_FLOAT_EQ(gates[t], *std::max_element(p.begin() + 5 * t, p.begin() + 5 * t + 5));
    EXPECT_FLOAT_EQ(gates[t], p[5 * t + experts[t]]);
  }
}

TEST(RouterTest, GShardKeepsTheSecondExpertWithProbabilityG2OverThreshold) {
  Router router(Parse("kind: GSHARD top_k: 2 second_threshold: 0.5"), 4, 4, 1, 1);
  Randomize(router, 1.f, 7);
  std::mt19937 rng(8);
  const int64_t t = 20000;
  const Tensor x = RandomTensor(rng, {t, 4}, -2.f, 2.f);
  NoGradScope no_grad;
  const Routing all = router.Route(x, 1, false);
  ASSERT_EQ(all.token.numel(), 2 * t);  // evaluation keeps both
  double expected = 0;
  const std::vector<float> g = all.gate.ToVector();
  for (int64_t i = 0; i < t; ++i) expected += std::min(1.0, g[t + i] / 0.5);
  const Routing train = router.Route(x, 1, true);
  EXPECT_NEAR(static_cast<double>(train.token.numel() - t), expected, 4 * std::sqrt(expected));
  for (int64_t i = 0; i < t; ++i) EXPECT_NEAR(g[i] + g[t + i], 1.f, 1e-5);  // normalized pair
}

TEST(RouterTest, ExpertChoiceGivesEachExpertExactlyCapacityTokens) {
  Router router(Parse("kind: EXPERT_CHOICE top_k: 2 capacity_factor_train: 1.0"), 4, 4, 1, 1);
  std::mt19937 rng(9);
  const Routing r = router.Route(RandomTensor(rng, {10, 4}), 1, true);
  // C = ceil(1.0 * 2 * 10 / 4) = 5 tokens for each of 4 experts.
  std::vector<int> count(4, 0);
  for (int64_t e : r.expert.ToIndices()) ++count[e];
  EXPECT_EQ(count, std::vector<int>(4, 5));
  const std::vector<float> p = r.probs.ToVector(), gates = r.gate.ToVector();
  const std::vector<int64_t> tokens = r.token.ToIndices(), experts = r.expert.ToIndices();
  for (size_t i = 0; i < gates.size(); ++i) EXPECT_FLOAT_EQ(gates[i], p[tokens[i] * 4 + experts[i]]);
}

TEST(RouterTest, LaplaceLogitsAreNegativeDistancesPlusBias) {
  Router router(Parse("kind: LAPLACE top_k: 1"), 2, 2, 1, 1);
  router.NamedParameters()[0].second.CopyFrom(Tensor::FromVector({0.f, 0.f, 3.f, 4.f}, {2, 2}));
  router.NamedParameters()[1].second.CopyFrom(Tensor::FromVector({0.5f, 0.f}, {2}));
  const std::vector<float> logits = router.Logits(Tensor::FromVector({0.f, 0.f}, {1, 2})).ToVector();
  EXPECT_NEAR(logits[0], 0.5f, 1e-6);
  EXPECT_NEAR(logits[1], -5.f, 1e-5);
}

}  // namespace
}  // namespace onemodel::moe
