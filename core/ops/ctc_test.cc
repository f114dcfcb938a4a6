#include "core/ops/ctc.h"

#include <cmath>
#include <functional>

#include "core/testing/gradcheck.h"
#include "gtest/gtest.h"

namespace onemodel::ops {
namespace {

using testing::CheckOp;
using testing::Doubles;

// CTC by its definition: every frame-level path over the vocabulary, kept when it collapses (merge repeats, drop
// blanks) to the labels. Independent of the forward-backward recursion under test; exponential, so tiny sizes only.
double BruteForceLoss(const double* logits, int64_t length, int64_t v, const std::vector<int>& labels, int blank) {
  std::vector<double> lp(length * v);
  for (int64_t t = 0; t < length; ++t) {
    double z = 0;
    for (int64_t k = 0; k < v; ++k) z += std::exp(logits[t * v + k]);
    for (int64_t k = 0; k < v; ++k) lp[t * v + k] = logits[t * v + k] - std::log(z);
  }
  double p = 0;
  std::vector<int> path(length);
  std::function<void(int64_t)> walk = [&](int64_t t) {
    if (t == length) {
      std::vector<int> collapsed;
      for (int64_t i = 0; i < length; ++i) {
        if (path[i] != blank && (i == 0 || path[i] != path[i - 1])) collapsed.push_back(path[i]);
      }
      if (collapsed != labels) return;
      double log_path = 0;
      for (int64_t i = 0; i < length; ++i) log_path += lp[i * v + path[i]];
      p += std::exp(log_path);
      return;
    }
    for (int k = 0; k < v; ++k) path[t] = k, walk(t + 1);
  };
  walk(0);
  return p > 0 ? -std::log(p) : 0.0;  // no path: counted as zero (zero_infinity)
}

TEST(CtcLossTest, UniformFramesGiveTheCountOfAlignments) {
  // Three frames, blank 0 and one label: 6 of the 8 paths collapse to "1" (001 010 100 011 110 111).
  const Tensor loss = CtcLoss(Tensor::Zeros({1, 3, 2}), {{1}}, {3});
  EXPECT_NEAR(loss.item(), -std::log(6.0 / 8.0), 1e-6);
}

TEST(CtcLossTest, MatchesEveryPathSummedWithGradients) {
  std::mt19937 rng(3);
  // Repeated labels (need a blank between them), padding frames, an empty target, an example too short for its
  // labels (zero), and a second blank id.
  const std::vector<std::vector<int>> targets = {{1, 1}, {2, 1, 2}, {}, {1, 2, 1}};
  const std::vector<int64_t> lengths = {4, 5, 3, 2};
  for (int blank : {0, 3}) {
    std::vector<std::vector<int>> labels = targets;
    if (blank == 3) {
      for (auto& l : labels) {
        for (int& id : l) id -= 1;  // labels {0, 1} when the blank is 3
      }
    }
    const int64_t b = 4, t = 5, v = 4;
    CheckOp({testing::RandomTensor(rng, {b, t, v}, -2.f, 2.f)},
            [&](const std::vector<Tensor>& in) { return CtcLoss(in[0], labels, lengths, blank); },
            [&](const std::vector<Doubles>& in) {
              double total = 0;
              for (int64_t i = 0; i < b; ++i) {
                total += BruteForceLoss(&in[0][i * t * v], lengths[i], v, labels[i], blank);
              }
              return Doubles{total};
            });
  }
}

TEST(CtcLossTest, ImpossibleAlignmentContributesNothing) {
  // "1 1" needs three frames (1, blank, 1); with two it has no path.
  Tensor logits = Tensor::Zeros({1, 2, 3});
  logits.set_requires_grad(true);
  const Tensor loss = CtcLoss(logits, {{1, 1}}, {2});
  EXPECT_EQ(loss.item(), 0.f);
  loss.Backward();
  for (float g : logits.grad().ToVector()) EXPECT_EQ(g, 0.f);
}

TEST(CtcLossDeathTest, BadInputsAreNamed) {
  EXPECT_DEATH(CtcLoss(Tensor::Zeros({1, 3, 2}), {{0}}, {3}), "CtcLoss: label 0 of example 0 is the blank");
  EXPECT_DEATH(CtcLoss(Tensor::Zeros({1, 3, 2}), {{1}}, {4}), "CtcLoss: input length 4 of example 0 outside");
  EXPECT_DEATH(CtcLoss(Tensor::Zeros({2, 3, 2}), {{1}}, {3}), "CtcLoss: 1 target sequences");
}

}  // namespace
}  // namespace onemodel::ops
