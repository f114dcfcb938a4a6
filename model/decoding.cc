#include "model/decoding.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "glog/logging.h"

namespace onemodel::model {
namespace {

struct Hypothesis {
  std::vector<int> tokens;
  float log_prob = 0.f;   // under `next`
  float ctc_score = 0.f;  // joint decoding: the CTC prefix log-probability (whole-transcript once finished)
  CtcPrefixScorer::State ctc;
};

// (1 - w) x log_prob + w x ctc_score, the decoder's part length-normalized with exponent `alpha`: the search ranks
// with alpha 0, the final choice with length_penalty. The CTC score is one probability of the whole audio, whatever
// the transcript's length: dividing it too would favour insertions.
float Score(const Hypothesis& h, const DecodeOptions& o, float alpha) {
  const float length = static_cast<float>(h.tokens.size());
  return (1 - o.ctc_weight) * h.log_prob / std::pow((5.f + length) / 6.f, alpha) + o.ctc_weight * h.ctc_score;
}

int ArgMax(const std::vector<float>& v) {
  return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
}

std::vector<std::vector<int>> Greedy(int64_t examples, const NextLogProbs& next, const DecodeOptions& o) {
  std::vector<std::vector<int>> out(examples);
  std::vector<int64_t> active(examples);
  std::iota(active.begin(), active.end(), 0);
  for (int t = 0; t < o.max_length && !active.empty(); ++t) {
    std::vector<std::vector<int>> prefixes;
    for (int64_t row : active) prefixes.push_back(out[row]);
    const std::vector<std::vector<float>> log_probs = next(active, prefixes);
    std::vector<int64_t> still;
    for (size_t i = 0; i < active.size(); ++i) {
      const int token = ArgMax(log_probs[i]);
      if (token == o.eos_id) continue;
      out[active[i]].push_back(token);
      if (t + 1 < o.max_length) still.push_back(active[i]);
    }
    active = std::move(still);
  }
  return out;
}

std::vector<std::vector<int>> Beam(int64_t examples, const NextLogProbs& next, const DecodeOptions& o,
                                   const std::vector<CtcPrefixScorer>& ctc) {
  const bool joint = o.ctc_weight > 0;
  std::vector<std::vector<Hypothesis>> beams(examples, std::vector<Hypothesis>(1));
  if (joint) {
    for (int64_t e = 0; e < examples; ++e) beams[e][0].ctc = ctc[e].Empty();
  }
  std::vector<std::vector<Hypothesis>> finished(examples);
  for (int t = 0; t < o.max_length; ++t) {
    std::vector<int64_t> rows;
    std::vector<std::vector<int>> prefixes;
    std::vector<std::pair<int64_t, size_t>> origin;
    for (int64_t e = 0; e < examples; ++e) {
      for (size_t h = 0; h < beams[e].size(); ++h) {
        rows.push_back(e);
        prefixes.push_back(beams[e][h].tokens);
        origin.emplace_back(e, h);
      }
    }
    if (rows.empty()) break;
    const std::vector<std::vector<float>> log_probs = next(rows, prefixes);
    std::vector<std::vector<Hypothesis>> candidates(examples);
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto [e, h] = origin[i];
      const std::vector<float>& lp = log_probs[i];
      // Alone, only the beam_size best tokens of one hypothesis can survive the cut below. Joint decoding rescores
      // the kCtcPreBeam best, and end of sentence always: the CTC output may end a transcript the decoder would not.
      std::vector<int> order(lp.size());
      std::iota(order.begin(), order.end(), 0);
      const size_t keep = std::min(order.size(), static_cast<size_t>(joint ? std::max(o.beam_size, kCtcPreBeam)
                                                                            : o.beam_size));
      std::partial_sort(order.begin(), order.begin() + keep, order.end(), [&](int a, int b) { return lp[a] > lp[b]; });
      order.resize(keep);
      if (joint && std::find(order.begin(), order.end(), o.eos_id) == order.end()) order.push_back(o.eos_id);
      const Hypothesis& parent = beams[e][h];
      for (const int token : order) {
        if (joint && token == ctc[e].blank()) continue;  // never a transcript's token
        Hypothesis c;
        c.tokens = parent.tokens;
        c.tokens.push_back(token);
        c.log_prob = parent.log_prob + lp[token];
        if (joint) {
          // The last step cuts the hypotheses that did not end: they are scored whole, like those that did.
          const bool ends = token == o.eos_id || t + 1 == o.max_length;
          if (token != o.eos_id) c.ctc = ctc[e].Extend(parent.ctc, token);
          c.ctc_score = ends ? ctc[e].Whole(token == o.eos_id ? parent.ctc : c.ctc) : c.ctc.prefix;
          if (std::isinf(c.ctc_score)) continue;  // more labels than the audio has positions
        }
        candidates[e].push_back(std::move(c));
      }
    }
    for (int64_t e = 0; e < examples; ++e) {
      std::vector<Hypothesis>& c = candidates[e];
      std::sort(c.begin(), c.end(),
                [&](const Hypothesis& a, const Hypothesis& b) { return Score(a, o, 0) > Score(b, o, 0); });
      beams[e].clear();
      for (Hypothesis& h : c) {
        if (static_cast<int>(beams[e].size()) >= o.beam_size) break;
        if (h.tokens.back() == o.eos_id || t + 1 == o.max_length) {
          if (h.tokens.back() == o.eos_id) h.tokens.pop_back();
          finished[e].push_back(std::move(h));
        } else {
          beams[e].push_back(std::move(h));
        }
      }
      // An example is done once it has beam_size finished hypotheses ("early stopping").
      if (static_cast<int>(finished[e].size()) >= o.beam_size) beams[e].clear();
    }
  }
  std::vector<std::vector<int>> out(examples);
  for (int64_t e = 0; e < examples; ++e) {
    for (Hypothesis& h : beams[e]) finished[e].push_back(std::move(h));
    CHECK(!finished[e].empty());
    const auto best = std::max_element(finished[e].begin(), finished[e].end(),
                                       [&](const Hypothesis& a, const Hypothesis& b) {
                                         return Score(a, o, o.length_penalty) < Score(b, o, o.length_penalty);
                                       });
    out[e] = best->tokens;
  }
  return out;
}

}  // namespace

std::vector<std::vector<int>> Decode(int64_t examples, const NextLogProbs& next, const DecodeOptions& o,
                                     const std::vector<CtcPrefixScorer>& ctc) {
  CHECK_GE(o.beam_size, 1);
  CHECK_GE(o.max_length, 1);
  CHECK(o.ctc_weight >= 0 && o.ctc_weight <= 1) << "ctc_weight " << o.ctc_weight << " is not in [0, 1]";
  CHECK(o.ctc_weight == 0 || static_cast<int64_t>(ctc.size()) == examples)
      << "joint CTC decoding needs one scorer per example: " << ctc.size() << " for " << examples;
  return o.beam_size == 1 && o.ctc_weight == 0 ? Greedy(examples, next, o) : Beam(examples, next, o, ctc);
}

}  // namespace onemodel::model
