#include "moe/losses.h"

#include <cmath>

#include "core/ops/ops.h"
#include "core/testing/gradcheck.h"
#include "gtest/gtest.h"

namespace onemodel::moe {
namespace {

using onemodel::testing::CheckOp;
using onemodel::testing::Doubles;

// T = 4 tokens, E = 2 experts, top-1 choices {0, 0, 0, 1}.
Routing Example(const Tensor& logits) {
  Routing r;
  r.num_tokens = 4;
  r.num_experts = 2;
  r.token = Tensor::FromIndices({0, 1, 2, 3}, {4});
  r.expert = Tensor::FromIndices({0, 0, 0, 1}, {4});
  r.logits = logits;
  r.probs = ops::Softmax(logits);
  r.gate = ops::Reshape(ops::TopK(r.probs, 1).values, {4});
  r.routed = 4;
  return r;
}

Doubles SoftmaxRows(const Doubles& x, int n) {
  Doubles p(x.size());
  for (size_t r = 0; r < x.size() / n; ++r) {
    double z = 0;
    for (int j = 0; j < n; ++j) z += std::exp(x[r * n + j]);
    for (int j = 0; j < n; ++j) p[r * n + j] = std::exp(x[r * n + j]) / z;
  }
  return p;
}

const std::vector<float> kLogits = {2.f, 0.5f, 1.f, 0.f, 0.3f, -0.2f, -1.f, 1.5f};

TEST(LossesTest, SwitchLoadBalanceAgainstReference) {
  // E * sum_e f_e P_e with f = (3/4, 1/4).
  CheckOp({Tensor::FromVector(kLogits, {4, 2})},
          [](const std::vector<Tensor>& in) { return SwitchLoadBalanceLoss(Example(in[0])); },
          [](const std::vector<Doubles>& in) {
            const Doubles p = SoftmaxRows(in[0], 2);
            double p0 = 0, p1 = 0;
            for (int t = 0; t < 4; ++t) p0 += p[2 * t] / 4, p1 += p[2 * t + 1] / 4;
            return Doubles{2 * (0.75 * p0 + 0.25 * p1)};
          });
  // Perfect balance gives exactly 1.
  Routing uniform = Example(Tensor::Zeros({4, 2}));
  uniform.expert = Tensor::FromIndices({0, 1, 0, 1}, {4});
  EXPECT_FLOAT_EQ(SwitchLoadBalanceLoss(uniform).item(), 1.f);
}

TEST(LossesTest, ZLossAgainstReference) {
  CheckOp({Tensor::FromVector(kLogits, {4, 2})}, [](const std::vector<Tensor>& in) { return ZLoss(Example(in[0])); },
          [](const std::vector<Doubles>& in) {
            double s = 0;
            for (int t = 0; t < 4; ++t) {
              const double lse = std::log(std::exp(in[0][2 * t]) + std::exp(in[0][2 * t + 1]));
              s += lse * lse / 4;
            }
            return Doubles{s};
          });
}

TEST(LossesTest, ImportanceCvSquaredThroughTheKeptGates) {
  CheckOp({Tensor::FromVector(kLogits, {4, 2})},
          [](const std::vector<Tensor>& in) { return ImportanceLoss(Example(in[0])); },
          [](const std::vector<Doubles>& in) {
            const Doubles p = SoftmaxRows(in[0], 2);
            // Kept gates: the top-1 probability of each token; tokens 0-2 go to expert 0, token 3 to expert 1.
            double imp0 = 0, imp1 = 0;
            for (int t = 0; t < 3; ++t) imp0 += std::max(p[2 * t], p[2 * t + 1]);
            imp1 = std::max(p[6], p[7]);
            const double mean = (imp0 + imp1) / 2, var = ((imp0 - mean) * (imp0 - mean) + (imp1 - mean) * (imp1 - mean)) / 2;
            return Doubles{var / (mean * mean + 1e-10)};
          });
}

TEST(LossesTest, CoefficientOfVariation) {
  EXPECT_NEAR(CoefficientOfVariationSquared(Tensor::FromVector({1.f, 1.f, 1.f}, {3})).item(), 0.f, 1e-7);
  // values {0, 2}: mean 1, population variance 1.
  EXPECT_NEAR(CoefficientOfVariationSquared(Tensor::FromVector({0.f, 2.f}, {2})).item(), 1.f, 1e-6);
}

}  // namespace
}  // namespace onemodel::moe
