#include "model/ctc_lexicon_decoder.h"

#include <cmath>
#include <functional>
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

// The word sequences a collapsed label sequence spells (several with homophones or none), each with how many of its
// words follow the previous one without a boundary: between boundaries a segment is one pronunciation, or, with
// `joins`, several in a row.
using Parse = std::pair<std::vector<int>, int>;  // words, how many follow without a boundary

std::vector<Parse> Parses(const std::vector<int>& labels, bool joins) {
  std::vector<Parse> out = {Parse({}, 0)};
  if (labels.empty()) return out;
  // The parses of labels[from, end) as pronunciations in a row (without `joins`: exactly one).
  std::function<std::vector<Parse>(size_t, size_t)> segment = [&](size_t from, size_t end) {
    std::vector<Parse> parses;
    for (size_t cut = from + 1; cut <= end; ++cut) {
      if (!joins && cut < end) continue;
      const std::vector<int> piece(labels.begin() + from, labels.begin() + cut);
      std::vector<int> words;
      for (const auto& [word, pronunciation] : kLexicon) {
        if (pronunciation == piece && (words.empty() || words.back() != word)) words.push_back(word);
      }
      const std::vector<Parse> rest = cut < end ? segment(cut, end) : std::vector<Parse>{Parse({}, -1)};
      for (int w : words) {
        for (const auto& [tail, tail_joins] : rest) {
          std::vector<int> parse{w};
          parse.insert(parse.end(), tail.begin(), tail.end());
          parses.push_back({parse, tail_joins + 1});
        }
      }
    }
    return parses;
  };
  size_t from = 0;
  for (size_t i = 0; i <= labels.size(); ++i) {
    if (i < labels.size() && labels[i] != kBoundary) continue;
    std::vector<Parse> extended;
    for (const auto& [prefix, prefix_joins] : out) {
      for (const auto& [words, word_joins] : segment(from, i)) {
        std::vector<int> parse = prefix;
        parse.insert(parse.end(), words.begin(), words.end());
        extended.push_back({parse, prefix_joins + word_joins});
      }
    }
    out = extended;
    from = i + 1;
  }
  return out;
}

// Every alignment of `frames` frames enumerated: each word sequence's log-probability (summed over alignments and
// pronunciations) plus its language-model score; the best.
// `missing_boundary`: the log-probability of each word following the previous one without a boundary (-inf: never).
std::vector<int> BruteForceBest(const std::vector<float>& lp, int64_t frames, const WordLogProb& lm,
                                float missing_boundary = -INFINITY) {
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
    for (const auto& [words, joins] : Parses(labels, missing_boundary > -INFINITY)) {
      probability[words] += std::exp(log_p + (joins > 0 ? joins * static_cast<double>(missing_boundary) : 0.0));
    }
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

// A beam wide enough to keep every hypothesis finds what enumerating every alignment finds, over 200 random outputs.
void ExpectTheBruteForceBest(float missing_boundary) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> table((kWords + 1) * (kWords + 1));
  for (float& v : table) v = normal(rng);
  // Random scores, not normalized: the search maximizes whatever the model scores.
  const WordLogProb lm = [&](int previous, int word) { return table[(previous + 1) * (kWords + 1) + word + 1]; };
  LexiconDecodeOptions options;
  options.beam = 100000;
  options.label_floor = -1e30f;
  options.missing_boundary = missing_boundary;
  const CtcLexiconDecoder decoder(kLexicon, kBlank, kBoundary, lm, options);
  int nonempty = 0, multiword = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t frames = 3 + trial % 5;
    const std::vector<float> lp = RandomLogProbs(rng, frames);
    const std::vector<int> expected = BruteForceBest(lp, frames, lm, missing_boundary);
    EXPECT_EQ(decoder.Decode(lp, frames, kClasses), expected) << "trial " << trial;
    nonempty += !expected.empty();
    multiword += expected.size() > 1;
  }
  EXPECT_GT(multiword, 25);  // the trials exercise boundaries, not only single words
  EXPECT_GT(nonempty, 150);
}

TEST(CtcLexiconDecoderTest, WideBeamFindsTheBestWordSequenceOfEveryAlignment) {
  ExpectTheBruteForceBest(-INFINITY);
}

TEST(CtcLexiconDecoderTest, WordsMayFollowWithoutABoundaryAtACost) {
  ExpectTheBruteForceBest(-1.5f);
}

// The boundary the acoustic model left out (frames spelling "a b" then "b" with no boundary between): the words
// come out when a missing boundary is allowed, and only the first when it is not.
TEST(CtcLexiconDecoderTest, AMissingBoundaryKeepsTheLastWord) {
  const std::vector<int> path = {kA, kB, kBlank, kB, kBlank};
  std::vector<float> lp(path.size() * kClasses, std::log(0.02f));
  for (size_t t = 0; t < path.size(); ++t) lp[t * kClasses + path[t]] = std::log(0.94f);
  const WordLogProb lm = [](int, int) { return -1.f; };
  LexiconDecodeOptions options;
  EXPECT_EQ(CtcLexiconDecoder(kLexicon, kBlank, kBoundary, lm, options).Decode(lp, 5, kClasses),
            (std::vector<int>{1}));
  options.missing_boundary = 0;
  const std::vector<int> words = CtcLexiconDecoder(kLexicon, kBlank, kBoundary, lm, options).Decode(lp, 5, kClasses);
  ASSERT_EQ(words.size(), 2u);
  EXPECT_EQ(words[0], 1);
  EXPECT_TRUE(words[1] == 2 || words[1] == 3);
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
