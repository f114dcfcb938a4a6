#include "model/attention.h"

#include <cmath>

#include "core/ops/ops.h"
#include "core/testing/gradcheck.h"
#include "gtest/gtest.h"

namespace onemodel::model {
namespace {

using onemodel::testing::CheckOp;
using onemodel::testing::Doubles;
using onemodel::testing::RandomTensor;

// Straightforward double reference: per batch and head, softmax(q k^T / sqrt(dh) + mask) v, then wo.
Doubles AttentionRef(const std::vector<Doubles>& in, int64_t b, int64_t tq, int64_t tk, int64_t d, int64_t heads,
                     bool causal, const std::vector<float>& key_mask) {
  const Doubles &x = in[0], &mem = in[1], &wq = in[2], &wk = in[3], &wv = in[4], &wo = in[5];
  auto project = [&](const Doubles& src, int64_t t, const Doubles& w) {
    Doubles out(b * t * d, 0.0);
    for (int64_t r = 0; r < b * t; ++r)
      for (int64_t j = 0; j < d; ++j)
        for (int64_t i = 0; i < d; ++i) out[r * d + j] += src[r * d + i] * w[i * d + j];
    return out;
  };
  const Doubles q = project(x, tq, wq), k = project(mem, tk, wk), v = project(mem, tk, wv);
  const int64_t dh = d / heads;
  Doubles concat(b * tq * d, 0.0);
  for (int64_t n = 0; n < b; ++n)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < tq; ++i) {
        std::vector<double> s(tk);
        double m = -1e300;
        for (int64_t j = 0; j < tk; ++j) {
          double dot = 0;
          for (int64_t c = 0; c < dh; ++c) dot += q[(n * tq + i) * d + h * dh + c] * k[(n * tk + j) * d + h * dh + c];
          s[j] = dot / std::sqrt(static_cast<double>(dh));
          if ((causal && j > i) || (!key_mask.empty() && key_mask[n * tk + j] < 0.5f)) s[j] = -1e9;
          m = std::max(m, s[j]);
        }
        double z = 0;
        for (double& e : s) z += (e = std::exp(e - m));
        for (int64_t j = 0; j < tk; ++j)
          for (int64_t c = 0; c < dh; ++c) concat[(n * tq + i) * d + h * dh + c] += s[j] / z * v[(n * tk + j) * d + h * dh + c];
      }
  return project(concat, tq, wo);
}

TEST(AttentionTest, MatchesReferenceSelfCausalAndCross) {
  std::mt19937 rng(1);
  struct Case {
    int64_t b, tq, tk, d, heads;
    bool causal, self, masked;
  };
  for (const Case& c : {Case{2, 4, 4, 6, 2, true, true, false}, Case{1, 3, 5, 4, 1, false, false, false},
                        Case{2, 3, 4, 8, 4, false, false, true}}) {
    SCOPED_TRACE(::testing::Message() << "causal " << c.causal << " heads " << c.heads);
    std::vector<float> mask;
    if (c.masked) mask = {1, 1, 0, 1, 1, 0, 0, 1};
    const Tensor key_mask = c.masked ? Tensor::FromVector(mask, {c.b, c.tk}) : Tensor();
    const Tensor x = RandomTensor(rng, {c.b, c.tq, c.d});
    const Tensor mem = c.self ? x : RandomTensor(rng, {c.b, c.tk, c.d});
    std::vector<Tensor> inputs = {x, mem};
    for (int i = 0; i < 4; ++i) inputs.push_back(RandomTensor(rng, {c.d, c.d}, -0.7f, 0.7f));
    CheckOp(inputs,
            [&](const std::vector<Tensor>& in) {
              return MultiHeadAttention(in[0], in[1], in[2], in[3], in[4], in[5], c.heads, c.causal, key_mask);
            },
            [&](const std::vector<Doubles>& in) { return AttentionRef(in, c.b, c.tq, c.tk, c.d, c.heads, c.causal, mask); });
  }
}

TEST(AttentionTest, CausalOutputIgnoresTheFuture) {
  Attention attention(8, 2, 1, 1);
  std::mt19937 rng(2);
  Tensor x = RandomTensor(rng, {1, 5, 8});
  const std::vector<float> before = attention.Forward(x, x, true).ToVector();
  x.data<float>()[4 * 8 + 3] += 1.f;  // change the last position
  const std::vector<float> after = attention.Forward(x, x, true).ToVector();
  for (int i = 0; i < 4 * 8; ++i) EXPECT_EQ(before[i], after[i]) << i;
  EXPECT_NE(std::vector<float>(before.begin() + 32, before.end()), std::vector<float>(after.begin() + 32, after.end()));
}

TEST(AttentionTest, TimingSignal) {
  const std::vector<float> s = TimingSignal(3, 4).ToVector();
  // half = 2 timescales: 1 and 1 / 10000.
  EXPECT_NEAR(s[1 * 4 + 0], std::sin(1.0), 1e-6);
  EXPECT_NEAR(s[2 * 4 + 1], std::sin(2e-4), 1e-6);
  EXPECT_NEAR(s[1 * 4 + 2], std::cos(1.0), 1e-6);
  EXPECT_NEAR(s[0 * 4 + 3], 1.0, 1e-6);
}

}  // namespace
}  // namespace onemodel::model
