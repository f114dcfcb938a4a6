#include "moe/moe_layer.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "configs/config.h"
#include "core/autograd.h"
#include "core/ops/ops.h"
#include "core/testing/gradcheck.h"
#include "gtest/gtest.h"
#include "moe/moe_config.h"

namespace onemodel::moe {
namespace {

using onemodel::testing::CheckGradientsNumerically;
using onemodel::testing::CheckParameterGradients;
using onemodel::testing::RandomTensor;

config::MoeConfig Parse(const std::string& text, int64_t dim) {
  auto e = ParseExperiment("moe { " + text + " }", "test");
  CHECK(e.ok()) << e.status();
  const absl::Status valid = ValidateMoeConfig(e->moe(), dim);
  CHECK(valid.ok()) << valid;
  return e->moe();
}

// sum(y * R) + aux: a scalar that depends on every output and every auxiliary loss.
Tensor Objective(const MoeOutput& out) {
  std::mt19937 rng(77);
  return ops::Add(ops::SumAll(ops::Mul(out.y, RandomTensor(rng, out.y.shape()))), out.aux_loss);
}

std::vector<float> Values(const Tensor& t) { return t.ToVector(); }

void ExpectNear(const std::vector<float>& a, const std::vector<float>& b, float tol) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], tol * (1 + std::abs(b[i]))) << "element " << i;
}

struct RouterCase {
  const char* name;
  std::string config;
};

const RouterCase kRouterCases[] = {
    {"noisy_top_k", "router { kind: NOISY_TOP_K top_k: 2 } load_coef: 0.1 importance_coef: 0.1"},
    {"switch_jitter", "router { kind: SWITCH top_k: 1 jitter: 0.01 }"},
    {"gshard", "router { kind: GSHARD top_k: 2 }"},
    {"laplace", "router { kind: LAPLACE top_k: 2 } importance_coef: 0.1"},
    {"expert_choice", "router { kind: EXPERT_CHOICE top_k: 2 }"},
    {"swiglu_shared", "router { kind: NOISY_TOP_K top_k: 2 } swiglu: true shared_expert: true activation: SILU"},
    {"dropless_gelu", "router { kind: NOISY_TOP_K top_k: 2 capacity_factor_train: 0 } activation: GELU"},
};

TEST(MoeLayerTest, GradientsThroughEveryRouterGateAndLoss) {
  const int64_t d = 4;
  for (const RouterCase& c : kRouterCases) {
    SCOPED_TRACE(c.name);
    const config::MoeConfig config = Parse("num_experts: 4 hidden: 6 " + c.config, d);
    MoeLayer layer(config, d, 3, 1);
    std::mt19937 rng(5);
    const Tensor x = RandomTensor(rng, {8, d});
    // Router weights start at zero for noisy top-k: give them large values, so gate gradients are not
    // trivial and router logits are far apart compared with the finite-difference step (no choice flips).
    for (auto& [name, p] : layer.NamedParameters()) {
      if (name.rfind("router.", 0) == 0) p.CopyFrom(RandomTensor(rng, p.shape(), -2.f, 2.f));
    }
    CheckGradientsNumerically({x}, [&](const std::vector<Tensor>& in) { return layer.Forward(in[0], 1, true).y; },
                              1e-3);
    CheckParameterGradients(layer.NamedParameters(), [&] { return Objective(layer.Forward(x, 1, true)); }, 1e-3);
  }
}

TEST(MoeLayerTest, OneExpertTopOneWithoutDroppingIsAPlainFfn) {
  const int64_t d = 5;
  const config::MoeConfig config =
      Parse("num_experts: 1 hidden: 7 activation: GELU load_balance_coef: 0 z_loss_coef: 0 "
            "router { kind: NOISY_TOP_K top_k: 1 capacity_factor_train: 0 }", d);
  MoeLayer layer(config, d, 1, 1);
  Ffn ffn(d, 7, UnaryKind::kGelu, false, 9, 9);
  ffn.w_in.CopyFrom(layer.experts.w_in.View({d, 7}));
  ffn.w_out.CopyFrom(layer.experts.w_out.View({7, d}));
  std::mt19937 rng(2);
  const Tensor x0 = RandomTensor(rng, {2, 3, d});
  Tensor x1 = x0.Clone().set_requires_grad(true), x2 = x0.Clone().set_requires_grad(true);
  const Tensor y_moe = layer.Forward(x1, 1, true).y;
  const Tensor y_ffn = ffn.Forward(x2);
  ExpectNear(Values(y_moe), Values(y_ffn), 1e-6f);
  ops::SumAll(ops::Mul(y_moe, y_moe)).Backward();
  ops::SumAll(ops::Mul(y_ffn, y_ffn)).Backward();
  ExpectNear(Values(x1.grad()), Values(x2.grad()), 1e-5f);
  ExpectNear(Values(layer.experts.w_in.grad()), Values(ffn.w_in.grad()), 1e-5f);
  ExpectNear(Values(layer.experts.w_out.grad()), Values(ffn.w_out.grad()), 1e-5f);
}

TEST(MoeLayerTest, DroplessOutputIsEquivariantUnderTokenPermutation) {
  const int64_t d = 4, t = 16;
  for (const char* router : {"kind: NOISY_TOP_K top_k: 2", "kind: LAPLACE top_k: 2", "kind: SWITCH top_k: 1"}) {
    const config::MoeConfig config =
        Parse(std::string("num_experts: 4 hidden: 8 router { ") + router + " capacity_factor_eval: 0 }", d);
    MoeLayer layer(config, d, 4, 2);
    for (auto& [name, p] : layer.NamedParameters()) {
      std::mt19937 rng(11);
      if (name.rfind("router.", 0) == 0) p.CopyFrom(RandomTensor(rng, p.shape()));
    }
    std::mt19937 rng(3);
    const Tensor x = RandomTensor(rng, {t, d});
    std::vector<int64_t> perm(t);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    const Tensor index = Tensor::FromIndices(perm, {t});
    NoGradScope no_grad;
    const Tensor y = layer.Forward(x, 1, false).y;
    const Tensor y_of_permuted = layer.Forward(ops::IndexSelect(x, index), 1, false).y;
    ExpectNear(Values(y_of_permuted), Values(ops::IndexSelect(y, index)), 1e-6f);
  }
}

TEST(MoeLayerTest, CapacityDropsTokensToZeroOutput) {
  const int64_t d = 3, t = 12;
  // Top-1, 4 experts, capacity ceil(0.5 * 12 / 4) = 2: at most 8 of 12 tokens are served.
  const config::MoeConfig config =
      Parse("num_experts: 4 hidden: 4 router { kind: SWITCH top_k: 1 capacity_factor_eval: 0.5 }", d);
  MoeLayer layer(config, d, 1, 1);
  std::mt19937 rng(4);
  NoGradScope no_grad;
  const MoeOutput out = layer.Forward(RandomTensor(rng, {t, d}), 1, false);
  int zero_rows = 0;
  const std::vector<float> y = Values(out.y);
  for (int64_t i = 0; i < t; ++i) zero_rows += y[i * d] == 0.f && y[i * d + 1] == 0.f && y[i * d + 2] == 0.f;
  EXPECT_GE(zero_rows, 4);
  EXPECT_NEAR(out.stats.drop_rate, zero_rows / 12.0, 1e-9);
}

TEST(MoeLayerTest, MultiHeadWithOneHeadAndIdentityProjectionsIsMoe) {
  const int64_t d = 4;
  const config::MoeConfig config = Parse("layer: MH_MOE heads: 1 num_experts: 4 hidden: 6 router { top_k: 2 }", d);
  MultiHeadMoeLayer mh(config, d, 7, 3);
  MoeLayer flat(config, d, 7, 3);
  std::vector<float> eye(d * d, 0.f);
  for (int64_t i = 0; i < d; ++i) eye[i * d + i] = 1.f;
  mh.head.CopyFrom(Tensor::FromVector(eye, {d, d}));
  mh.merge.CopyFrom(Tensor::FromVector(eye, {d, d}));
  std::mt19937 rng(8);
  const Tensor x = RandomTensor(rng, {6, d});
  const MoeOutput a = mh.Forward(x, 2, true), b = flat.Forward(x, 2, true);
  ExpectNear(Values(a.y), Values(b.y), 1e-6f);
  EXPECT_FLOAT_EQ(a.aux_loss.item(), b.aux_loss.item());
}

TEST(MoeLayerTest, MultiHeadGradientsAndSubTokenRouting) {
  const int64_t d = 6;
  const config::MoeConfig config =
      Parse("layer: MH_MOE heads: 3 num_experts: 4 hidden: 5 router { kind: LAPLACE top_k: 1 }", d);
  MultiHeadMoeLayer layer(config, d, 2, 1);
  std::mt19937 rng(6);
  const Tensor x = RandomTensor(rng, {4, d});
  const MoeOutput out = layer.Forward(x, 1, true, Tensor::FromIndices({0, 1, 0, 1}, {4}));
  EXPECT_EQ(out.y.shape(), x.shape());
  double served = 0;
  for (double l : out.stats.load) served += l;
  EXPECT_NEAR(served, 1.0, 1e-9);  // 12 sub-tokens routed
  CheckGradientsNumerically({x}, [&](const std::vector<Tensor>& in) { return layer.Forward(in[0], 1, true).y; });
  CheckParameterGradients(layer.NamedParameters(), [&] { return Objective(layer.Forward(x, 1, true)); });
}

TEST(MoeLayerTest, HierarchicalWithOneGroupIsFlat) {
  const int64_t d = 4;
  for (const char* kind : {"NOISY_TOP_K", "LAPLACE"}) {
    const config::MoeConfig config = Parse(
        std::string("layer: HIERARCHICAL groups: 1 num_experts: 4 hidden: 6 outer_router { top_k: 1 } router { kind: ") +
            kind + " top_k: 2 capacity_factor_eval: 0 }",
        d);
    HierarchicalMoeLayer hier(config, d, 5, 2);
    config::MoeConfig flat_config = config;
    flat_config.set_layer(config::MoeConfig::MOE);
    MoeLayer flat(flat_config, d, 5, 2);
    std::mt19937 rng(9);
    for (auto* router : {&hier.inner_router, &flat.router}) {
      std::mt19937 same(12);
      for (auto& [_, p] : router->NamedParameters()) p.CopyFrom(RandomTensor(same, p.shape()));
    }
    const Tensor x = RandomTensor(rng, {10, d});
    ExpectNear(Values(hier.Forward(x, 1, false).y), Values(flat.Forward(x, 1, false).y), 1e-6f);
  }
}

TEST(MoeLayerTest, HierarchicalNoisyGatesTrainEveryParameter) {
  const int64_t d = 4;
  const config::MoeConfig config = Parse(
      "layer: HIERARCHICAL groups: 2 num_experts: 4 hidden: 5 outer_router { top_k: 1 } router { top_k: 1 }", d);
  HierarchicalMoeLayer layer(config, d, 3, 1);
  std::mt19937 rng(13);
  for (auto& [_, p] : layer.NamedParameters()) p.CopyFrom(RandomTensor(rng, p.shape(), -2.f, 2.f));
  const Tensor x = RandomTensor(rng, {6, d});
  CheckParameterGradients(layer.NamedParameters(), [&] { return Objective(layer.Forward(x, 1, true)); }, 1e-3);
}

TEST(MoeLayerTest, HierarchicalLaplaceGradients) {
  const int64_t d = 4;
  const config::MoeConfig config = Parse(
      "layer: HIERARCHICAL groups: 2 num_experts: 4 hidden: 5 importance_coef: 0.1 "
      "outer_router { kind: LAPLACE top_k: 1 } router { kind: LAPLACE top_k: 1 }", d);
  HierarchicalMoeLayer layer(config, d, 3, 1);
  std::mt19937 rng(10);
  const Tensor x = RandomTensor(rng, {6, d});
  CheckGradientsNumerically({x}, [&](const std::vector<Tensor>& in) { return layer.Forward(in[0], 1, true).y; });
  CheckParameterGradients(layer.NamedParameters(), [&] { return Objective(layer.Forward(x, 1, true)); });
}

TEST(MoeLayerTest, DispatchEntropyIsZeroWhenEachExpertSeesOneLabel) {
  // Laplace router with an expert center at each of 4 well separated points; tokens sit on the centers.
  const int64_t d = 4;
  const config::MoeConfig config = Parse("num_experts: 4 hidden: 3 router { kind: LAPLACE top_k: 1 capacity_factor_eval: 0 }", d);
  MoeLayer layer(config, d, 1, 1);
  std::vector<float> centers(16, 0.f), tokens;
  std::vector<int64_t> labels;
  for (int i = 0; i < 4; ++i) centers[i * 4 + i] = 5.f;
  layer.router.NamedParameters()[0].second.CopyFrom(Tensor::FromVector(centers, {4, 4}));
  for (int rep = 0; rep < 4; ++rep) {
    for (int i = 0; i < 4; ++i) {
      for (int j = 0; j < 4; ++j) tokens.push_back(centers[i * 4 + j]);
      labels.push_back(i);
    }
  }
  NoGradScope no_grad;
  const MoeOutput out = layer.Forward(Tensor::FromVector(tokens, {16, 4}), 1, false, Tensor::FromIndices(labels, {16}));
  EXPECT_NEAR(out.stats.dispatch_entropy, 0.0, 1e-12);
  EXPECT_NEAR(out.stats.load_cv, 0.0, 1e-12);
  EXPECT_EQ(out.stats.activation_ratio, 1.0);
  // Labels that ignore the expert (token 4r + i has label r % 2): each expert sees 2 labels equally -> log 2.
  std::vector<int64_t> mixed;
  for (int i = 0; i < 16; ++i) mixed.push_back(i / 4 % 2);
  const MoeOutput out2 = layer.Forward(Tensor::FromVector(tokens, {16, 4}), 1, false, Tensor::FromIndices(mixed, {16}));
  EXPECT_NEAR(out2.stats.dispatch_entropy, std::log(2.0), 1e-9);
}

}  // namespace
}  // namespace onemodel::moe
