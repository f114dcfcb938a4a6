#include "data/word_bigram.h"

#include <cmath>

#include "gtest/gtest.h"

namespace onemodel::data {
namespace {

// Corpus over 4 words: "0 1", "0 1", "0 2", "3".
const std::vector<std::vector<int>> kCorpus = {{0, 1}, {0, 1}, {0, 2}, {3}};

TEST(WordBigramTest, EveryHistorySumsToOneOverTheWordsAndTheEnd) {
  const WordBigram lm(kCorpus, 4);
  for (int previous = -1; previous < 4; ++previous) {
    double sum = 0;
    for (int word = -1; word < 4; ++word) sum += std::exp(lm.LogProb(previous, word));
    EXPECT_NEAR(sum, 1.0, 1e-6) << "after " << previous;
  }
}

TEST(WordBigramTest, WittenBellByHand) {
  const WordBigram lm(kCorpus, 4);
  // 11 tokens (7 words, 4 ends); P1(1) = (2 + 1) / (11 + 5). After 0: c = 3, T = 2 (1 twice, 2 once).
  const double p1 = 3.0 / 16;
  EXPECT_NEAR(std::exp(lm.LogProb(0, 1)), (2 + 2 * p1) / (3 + 2), 1e-6);
  // Never seen after 0: the unigram's share only. P1(3) = 2 / 16.
  EXPECT_NEAR(std::exp(lm.LogProb(0, 3)), 2 * (2.0 / 16) / 5, 1e-6);
  // 2 was only ever followed by the end: c = 1, T = 1; P1(end) = 5 / 16.
  EXPECT_NEAR(std::exp(lm.LogProb(2, -1)), (1 + 5.0 / 16) / 2, 1e-6);
  // Seen bigrams beat unseen ones from the same history; the start prefers the word sentences start with.
  EXPECT_GT(lm.LogProb(-1, 0), lm.LogProb(-1, 1));
}

}  // namespace
}  // namespace onemodel::data
