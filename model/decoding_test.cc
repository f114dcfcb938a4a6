#include "model/decoding.h"

#include <cmath>

#include "gtest/gtest.h"

namespace onemodel::model {
namespace {

// A toy language: ids 0 pad, 1 unused, 2 end of sentence, 3..6 words. After the empty prefix, 3 is likeliest
// (0.6) but continues badly (four tokens of 0.25); 4 (0.4) ends the sentence with 0.99.
std::vector<float> Toy(const std::vector<int>& prefix) {
  std::vector<float> p(7, 1e-6f);
  if (prefix.empty()) {
    p[3] = 0.6f;
    p[4] = 0.4f;
  } else if (prefix.back() == 4) {
    p[2] = 0.99f;
  } else if (prefix.size() >= 2) {
    p[2] = 0.9f;
  } else {
    p[3] = p[4] = p[5] = p[6] = 0.25f;
  }
  for (float& x : p) x = std::log(x);
  return p;
}

NextLogProbs ToyModel(int* calls) {
  return [calls](const std::vector<int64_t>& rows, const std::vector<std::vector<int>>& prefixes) {
    ++*calls;
    EXPECT_EQ(rows.size(), prefixes.size());
    std::vector<std::vector<float>> out;
    for (const auto& p : prefixes) out.push_back(Toy(p));
    return out;
  };
}

TEST(DecodingTest, GreedyFollowsTheArgmaxAndStopsAtEndOfSentence) {
  int calls = 0;
  DecodeOptions o;
  const auto out = Decode(2, ToyModel(&calls), o);
  ASSERT_EQ(out.size(), 2u);
  // 3 (0.6), then a tie among 3..6 (the lowest id wins), then end of sentence (0.9): p = 0.135.
  EXPECT_EQ(out[0], (std::vector<int>{3, 3}));
  EXPECT_EQ(out[1], out[0]);
  EXPECT_EQ(calls, 3);
}

TEST(DecodingTest, BeamSearchFindsTheLikelierSentence) {
  int calls = 0;
  DecodeOptions o;
  o.beam_size = 2;
  // "4 </s>" has p = 0.396 against greedy's 0.135.
  EXPECT_EQ(Decode(1, ToyModel(&calls), o)[0], (std::vector<int>{4}));
}

TEST(DecodingTest, MaxLengthCutsOutputs) {
  int calls = 0;
  DecodeOptions o;
  o.max_length = 1;
  EXPECT_EQ(Decode(1, ToyModel(&calls), o)[0], (std::vector<int>{3}));
  o.beam_size = 3;
  EXPECT_EQ(Decode(1, ToyModel(&calls), o)[0].size(), 1u);
}

// A CTC output over the toy language that reads `labels`: blank, label, blank, ... each with p 0.9.
CtcPrefixScorer CtcReading(const std::vector<int>& labels) {
  const int64_t vocab = 7, positions = 2 * static_cast<int64_t>(labels.size()) + 1;
  std::vector<float> lp(positions * vocab, std::log(0.1f / 6));
  for (int64_t t = 0; t < positions; ++t) lp[t * vocab + (t % 2 == 0 ? 0 : labels[t / 2])] = std::log(0.9f);
  return CtcPrefixScorer(lp, positions, vocab, 0);
}

// A decoder sure of its first token (3: 0.9, 4: 0.1) that then leans to ending (end of sentence 0.6, 5: 0.4).
NextLogProbs SureDecoder() {
  return [](const std::vector<int64_t>&, const std::vector<std::vector<int>>& prefixes) {
    std::vector<std::vector<float>> out;
    for (const auto& prefix : prefixes) {
      std::vector<float> p(7, 1e-6f);
      if (prefix.empty()) {
        p[3] = 0.9f, p[4] = 0.1f;
      } else if (prefix == std::vector<int>{3}) {
        p[2] = 0.6f, p[5] = 0.4f;
      } else {
        p[2] = 0.9f;
      }
      for (float& x : p) x = std::log(x);
      out.push_back(p);
    }
    return out;
  };
}

TEST(DecodingTest, JointCtcDecodingFollowsTheCtcOutputWhereTheDecoderHesitates) {
  int calls = 0;
  DecodeOptions o;
  o.ctc_weight = 0.3f;
  // The decoder alone says "3 3" (above); the CTC output picks among its close candidates at every step, even
  // with beam_size 1.
  EXPECT_EQ(Decode(1, ToyModel(&calls), o, {CtcReading({4})})[0], (std::vector<int>{4}));
  EXPECT_EQ(Decode(1, ToyModel(&calls), o, {CtcReading({3, 5})})[0], (std::vector<int>{3, 5}));
  o.beam_size = 3;
  EXPECT_EQ(Decode(2, ToyModel(&calls), o, {CtcReading({3, 6}), CtcReading({4})}),
            (std::vector<std::vector<int>>{{3, 6}, {4}}));
  o.ctc_weight = 0;
  EXPECT_EQ(Decode(1, ToyModel(&calls), o)[0], (std::vector<int>{4}));
}

TEST(DecodingTest, JointCtcDecodingWeighsBothOutputs) {
  DecodeOptions o;
  o.ctc_weight = 0.3f;
  // Ending after "3" is scored by the CTC output's probability that the transcript is "3", not that it begins
  // with "3": reading "3 5", it goes on.
  EXPECT_EQ(Decode(1, SureDecoder(), o, {CtcReading({3, 5})})[0], (std::vector<int>{3, 5}));
  // At weight 0.3 a sure decoder outvotes the CTC output (reading "4"); at 0.7 the CTC output wins.
  EXPECT_EQ(Decode(1, SureDecoder(), o, {CtcReading({4})})[0], (std::vector<int>{3}));
  o.ctc_weight = 0.7f;
  EXPECT_EQ(Decode(1, SureDecoder(), o, {CtcReading({4})})[0], (std::vector<int>{4}));
}

TEST(DecodingTest, JointCtcDecodingKeepsTranscriptsTheAudioCanHold) {
  int calls = 0;
  DecodeOptions o;
  o.ctc_weight = 0.3f;
  // One position holds one label: the decoder alone goes on to "3 3"; jointly, every continuation of "3" is ruled
  // out and the transcript ends.
  std::vector<float> reads_3(7, std::log(0.1f / 6));
  reads_3[3] = std::log(0.9f);
  EXPECT_EQ(Decode(1, ToyModel(&calls), o, {CtcPrefixScorer(reads_3, 1, 7, 0)})[0], (std::vector<int>{3}));
  // Hypotheses cut by max_length are scored as whole transcripts: alone the cut gives "3" (above).
  o.beam_size = 2;
  o.max_length = 1;
  EXPECT_EQ(Decode(1, ToyModel(&calls), o, {CtcReading({4})})[0], (std::vector<int>{4}));
}

}  // namespace
}  // namespace onemodel::model
