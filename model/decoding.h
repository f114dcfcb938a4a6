// Autoregressive decoding over any model that gives next-token log-probabilities for a batch of prefixes.
// Greedy decoding and beam search (length-normalized scores, Wu et al. 2016's (5 + len)^a / 6^a), optionally
// joint with a CTC output's prefix scores (Watanabe et al. 2017).
#ifndef ONEMODEL_MODEL_DECODING_H_
#define ONEMODEL_MODEL_DECODING_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "model/ctc_prefix_score.h"

namespace onemodel::model {

// Given `rows` (indices of the batch's examples, one per prefix) and `prefixes` (token ids so far, all the same
// length), returns log-probabilities [prefixes.size()][vocab] of the next token.
using NextLogProbs = std::function<std::vector<std::vector<float>>(const std::vector<int64_t>& rows,
                                                                   const std::vector<std::vector<int>>& prefixes)>;

struct DecodeOptions {
  int max_length = 48;    // tokens per output, end-of-sentence included
  int beam_size = 1;      // 1: greedy
  int eos_id = 2;
  float length_penalty = 0.6f;
  // Joint CTC-attention decoding: a hypothesis scores (1 - ctc_weight) x its log-probability under `next` +
  // ctc_weight x its CTC prefix log-probability (its whole-transcript one once it ends). The beam search then
  // weighs kCtcPreBeam candidates per hypothesis, even with beam_size 1.
  float ctc_weight = 0.f;
};

// Candidates per hypothesis that joint decoding rescores: the attention decoder's likeliest next tokens.
inline constexpr int kCtcPreBeam = 8;

// One output per example (without the end-of-sentence id). `ctc`: one scorer per example, needed when
// options.ctc_weight > 0 (its blank is never emitted).
std::vector<std::vector<int>> Decode(int64_t examples, const NextLogProbs& next, const DecodeOptions& options,
                                     const std::vector<CtcPrefixScorer>& ctc = {});

}  // namespace onemodel::model

#endif  // ONEMODEL_MODEL_DECODING_H_
