#include "moe/experts.h"

#include <cmath>

#include "core/ops/ops.h"
#include "core/testing/gradcheck.h"
#include "gtest/gtest.h"

namespace onemodel::moe {
namespace {

using onemodel::testing::CheckGradientsNumerically;
using onemodel::testing::CheckParameterGradients;
using onemodel::testing::RandomTensor;

TEST(ExpertsTest, FfnExpertsRunEachGroupThroughItsOwnWeights) {
  FfnExperts experts(3, 4, 5, UnaryKind::kGelu, /*swiglu=*/false, 1, 1);
  std::mt19937 rng(1);
  const Tensor rows = RandomTensor(rng, {6, 4});
  const std::vector<int64_t> sizes = {2, 0, 4};
  const std::vector<float> y = experts.Forward(rows, sizes).ToVector();
  // Row 3 belongs to expert 2: compare with that expert's FFN computed on its own.
  Ffn alone(4, 5, UnaryKind::kGelu, false, 9, 9);
  alone.w_in.CopyFrom(ops::Slice(experts.w_in, 2, 3).View({4, 5}));
  alone.w_out.CopyFrom(ops::Slice(experts.w_out, 2, 3).View({5, 4}));
  const std::vector<float> ref = alone.Forward(ops::Slice(rows, 3, 4)).ToVector();
  for (int j = 0; j < 4; ++j) EXPECT_NEAR(y[3 * 4 + j], ref[j], 1e-6);
  CheckGradientsNumerically({rows}, [&](const std::vector<Tensor>& in) { return experts.Forward(in[0], sizes); }, 1e-3);
}

TEST(ExpertsTest, SwiGluGradients) {
  FfnExperts experts(2, 3, 4, UnaryKind::kSilu, /*swiglu=*/true, 2, 1);
  std::mt19937 rng(2);
  const Tensor rows = RandomTensor(rng, {5, 3});
  const std::vector<int64_t> sizes = {3, 2};
  CheckParameterGradients(experts.NamedParameters(),
                          [&] { return ops::SumAll(ops::Cube(experts.Forward(rows, sizes))); }, 1e-3);
}

TEST(ExpertsTest, PatchConvMatchesTheDefinition) {
  // 2 experts, patches of 3, 2 outputs x 2 filters, cubic.
  PatchConvExperts experts(2, 3, 2, 2, UnaryKind::kCube, 1.f, 3, 1);
  std::mt19937 rng(3);
  const Tensor rows = RandomTensor(rng, {3, 2 * 3});  // 3 tokens of 2 patches
  const std::vector<int64_t> sizes = {1, 2};
  const std::vector<float> y = experts.Forward(rows, sizes).ToVector();
  const std::vector<float> x = rows.ToVector(), w = experts.weight.ToVector();
  for (int t = 0; t < 3; ++t) {
    const int e = t == 0 ? 0 : 1;
    for (int o = 0; o < 2; ++o) {
      double ref = 0;
      for (int p = 0; p < 2; ++p) {
        for (int j = 0; j < 2; ++j) {
          double dot = 0;
          for (int i = 0; i < 3; ++i) dot += x[t * 6 + p * 3 + i] * w[(e * 3 + i) * 4 + o * 2 + j];
          ref += dot * dot * dot;
        }
      }
      EXPECT_NEAR(y[t * 2 + o], ref, 1e-5 * (1 + std::abs(ref)));
    }
  }
  CheckParameterGradients(experts.NamedParameters(), [&] { return ops::SumAll(experts.Forward(rows, sizes)); }, 1e-3);
}

}  // namespace
}  // namespace onemodel::moe
