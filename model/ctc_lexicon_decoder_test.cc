#include "model/ctc_lexicon_decoder.h"

#include <cmath>
#include <map>
#include <random>

#include "gtest/gtest.h"

namespace onemodel::model {
namespace {

constexpr int kBlank = 0, kBoundary = 1, kA = 2, kB = 3, kClasses = 4;

// Words: 0 "a", 1 "a b", 2 and 3 "b" (homophones), 4 "a a" or "b a" (two pronunciations).
const std::vector<std::pair<int, std::vector<int>>> kLexicon = {
    {0, {kA}}, {1, {kA, kB}}, {2, {kB}}, {3, {kB}}, {4, {kA, kA}}, {4, {kB, kA}}};
constexpr int kWords = 5;

std::vector<float> RandomLogProbs(std::mt19937& rng, int64_t frames) {
  std::normal_distribution<float> normal(0.f, 2.f);
  std::vector<float> out(frames * kClasses);
  for (int64_t t = 0; t < frames; ++t) {
    float sum = 0;
    for (int c = 0; c < kClasses; ++c) sum += std::exp(out[t * kClasses + c] = normal(rng));
    for (int c = 0; c < kClasses; ++c) out[t * kClasses + c] -= std::log(sum);
  }
  return out;
}

// The word sequences a collapsed label sequence spells (several with homophones or none).
std::vector<std::vector<int>> Parses(const std::vector<int>& labels) {
  std::vector<std::vector<int>> out{{}};
  if (labels.empty()) return out;
  std::vector<int> segment;
  for (size_t i = 0; i <= labels.size(); ++i) {
    if (i < labels.size() && labels[i] != kBoundary) {
      segment.push_back(labels[i]);
      continue;
    }
    std::vector<int> words;
    for (const auto& [word, pronunciation] : kLexicon) {
      if (pronunciation == segment && (words.empty() || words.back() != word)) words.push_back(word);
    }
    std::vector<std::vector<int>> extended;
    for (const auto& prefix : out) {
      for (int w : words) {
        extended.push_back(prefix);
        extended.back().push_back(w);
      }
    }
    out = extended;
    segment.clear();
  }
  return out;
}

// Every alignment of `frames` frames enumerated: each word sequence's log-probability (summed over alignments and
// pronunciations) plus its language-model score; the best.
std::vector<int> BruteForceBest(const std::vector<float>& lp, int64_t frames, const WordLogProb& lm) {
  std::map<std::vector<int>, double> probability;
  int64_t alignments = 1;
  for (int64_t t = 0; t < frames; ++t) alignments *= kClasses;
  for (int64_t a = 0; a < alignments; ++a) {
    std::vector<int> labels;
    double log_p = 0;
    int previous = kBlank;
    for (int64_t t = 0, code = a; t < frames; ++t, code /= kClasses) {
      const int c = static_cast<int>(code % kClasses);
      log_p += lp[t * kClasses + c];
      if (c != kBlank && c != previous) labels.push_back(c);
      previous = c;
    }
    for (const auto& words : Parses(labels)) probability[words] += std::exp(log_p);
  }
  double best = -1e30;
  std::vector<int> out;
  for (const auto& [words, p] : probability) {
    double score = std::log(p);
    int previous = -1;
    for (int w : words) score += lm(previous, w), previous = w;
    score += lm(previous, -1);
    if (score > best) best = score, out = words;
  }
  return out;
}

TEST(CtcLexiconDecoderTest, WideBeamFindsTheBestWordSequenceOfEveryAlignment) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> table((kWords + 1) * (kWords + 1));
  for (float& v : table) v = normal(rng);
  // Random scores, not normalized: the search maximizes whatever the model scores.
  const WordLogProb lm = [&](int previous, int word) { return table[(previous + 1) * (kWords + 1) + word + 1]; };
  LexiconDecodeOptions options;
  options.beam = 100000;
  options.label_floor = -1e30f;
  const CtcLexiconDecoder decoder(kLexicon, kBlank, kBoundary, lm, options);
  int nonempty = 0, multiword = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t frames = 3 + trial % 5;
    const std::vector<float> lp = RandomLogProbs(rng, frames);
    const std::vector<int> expected = BruteForceBest(lp, frames, lm);
    EXPECT_EQ(decoder.Decode(lp, frames, kClasses), expected) << "trial " << trial;
    nonempty += !expected.empty();
    multiword += expected.size() > 1;
  }
  EXPECT_GT(multiword, 25);  // the trials exercise boundaries, not only single words
  EXPECT_GT(nonempty, 150);
}

TEST(CtcLexiconDecoderTest, TheLanguageModelPicksAmongHomophones) {
  // Frames spelling "a b | b": words 1 then 2 or 3; the language model prefers 3 after 1.
  const std::vector<int> path = {kA, kBlank, kB, kBoundary, kB, kB};
  std::vector<float> lp(path.size() * kClasses, std::log(0.02f));
  for (size_t t = 0; t < path.size(); ++t) lp[t * kClasses + path[t]] = std::log(0.94f);
  const WordLogProb lm = [](int previous, int word) { return previous == 1 && word == 3 ? -0.1f : -2.f; };
  const CtcLexiconDecoder decoder(kLexicon, kBlank, kBoundary, lm, {});
  EXPECT_EQ(decoder.Decode(lp, static_cast<int64_t>(path.size()), kClasses), (std::vector<int>{1, 3}));
}

}  // namespace
}  // namespace onemodel::model
