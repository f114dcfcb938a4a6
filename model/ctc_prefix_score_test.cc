#include "model/ctc_prefix_score.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "gtest/gtest.h"

namespace onemodel::model {
namespace {

constexpr int kBlank = 0;

// Per-position log-softmax of random logits: [positions][vocab].
std::vector<float> RandomLogProbs(int64_t positions, int64_t vocab, uint32_t seed) {
  std::vector<float> lp(positions * vocab);
  for (int64_t t = 0; t < positions; ++t) {
    double sum = 0;
    for (int64_t k = 0; k < vocab; ++k) {
      sum += std::exp(lp[t * vocab + k] = 2 * UniformAt({seed, 0, 0, 1}, t * vocab + k));
    }
    for (int64_t k = 0; k < vocab; ++k) lp[t * vocab + k] -= static_cast<float>(std::log(sum));
  }
  return lp;
}

// The reference: every path of `positions` symbols, collapsed (repeats merged, blanks dropped); sums the
// probabilities of the paths whose transcript begins with (`whole`: equals) `labels`.
double BruteForce(const std::vector<float>& lp, int64_t positions, int64_t vocab, const std::vector<int>& labels,
                  bool whole) {
  double total = 0;
  std::vector<int> path(positions, 0);
  for (;;) {
    std::vector<int> transcript;
    double log_p = 0;
    for (int64_t t = 0; t < positions; ++t) {
      log_p += lp[t * vocab + path[t]];
      if (path[t] != kBlank && (t == 0 || path[t] != path[t - 1])) transcript.push_back(path[t]);
    }
    const bool begins = transcript.size() >= labels.size() &&
                        std::equal(labels.begin(), labels.end(), transcript.begin());
    if (begins && (!whole || transcript.size() == labels.size())) total += std::exp(log_p);
    int64_t t = 0;
    while (t < positions && ++path[t] == vocab) path[t++] = 0;
    if (t == positions) return total;
  }
}

TEST(CtcPrefixScoreTest, MatchesEveryPathSummed) {
  const int64_t positions = 6, vocab = 4;
  const std::vector<float> lp = RandomLogProbs(positions, vocab, 3);
  const CtcPrefixScorer scorer(lp, positions, vocab, kBlank);
  // Repeated labels (which need a blank between) and distinct ones.
  for (const std::vector<int>& labels : std::vector<std::vector<int>>{{}, {1}, {2, 2}, {1, 3}, {3, 1, 3}, {2, 2, 2}}) {
    CtcPrefixScorer::State s = scorer.Empty();
    for (int c : labels) s = scorer.Extend(s, c);
    SCOPED_TRACE(testing::PrintToString(labels));
    EXPECT_NEAR(s.prefix, std::log(BruteForce(lp, positions, vocab, labels, false)), 1e-4);
    EXPECT_NEAR(scorer.Whole(s), std::log(BruteForce(lp, positions, vocab, labels, true)), 1e-4);
  }
}

TEST(CtcPrefixScoreTest, TranscriptsLongerThanTheAudioAreImpossible) {
  const int64_t positions = 2, vocab = 3;
  const CtcPrefixScorer scorer(RandomLogProbs(positions, vocab, 5), positions, vocab, kBlank);
  const CtcPrefixScorer::State one = scorer.Extend(scorer.Empty(), 1);
  EXPECT_TRUE(std::isfinite(one.prefix));
  EXPECT_TRUE(std::isfinite(scorer.Whole(one)));
  const CtcPrefixScorer::State one_one = scorer.Extend(one, 1);  // 1 _ 1 needs three positions
  EXPECT_TRUE(std::isinf(one_one.prefix));
  EXPECT_TRUE(std::isinf(scorer.Whole(one_one)));
  EXPECT_TRUE(std::isinf(scorer.Extend(scorer.Extend(one, 2), 1).prefix));
}

}  // namespace
}  // namespace onemodel::model
