#include "model/ctc_lexicon_decoder.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "glog/logging.h"

namespace onemodel::model {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

float LogAdd(float a, float b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  const float high = std::max(a, b);
  return high + std::log1p(std::exp(std::min(a, b) - high));
}

// A hypothesis's probability of its labels so far, its alignments ending in blank / in its last label.
struct Probs {
  float blank = kNegInf, label = kNegInf;
  float total() const { return LogAdd(blank, label); }
};

// Word sequences, interned so that hypotheses reaching the same words by different pronunciations merge.
class Histories {
 public:
  Histories(const WordLogProb& lm, const LexiconDecodeOptions& options) : lm_(lm), options_(options) {
    entries_.push_back({-1, -1, 0.f});
  }
  int Extend(int history, int word) {
    const auto [it, added] = ids_.emplace(std::make_pair(history, word), static_cast<int>(entries_.size()));
    if (added) {
      const float score = entries_[history].score + options_.lm_weight * lm_(entries_[history].word, word) +
                          options_.word_bonus;
      entries_.push_back({history, word, score});
    }
    return it->second;
  }
  // lm_weight x log P(words) + word_bonus x their number, without the end of the transcript.
  float Score(int history) const { return entries_[history].score; }
  float EndScore(int history) const { return Score(history) + options_.lm_weight * lm_(entries_[history].word, -1); }
  bool empty(int history) const { return history == 0; }
  std::vector<int> Words(int history) const {
    std::vector<int> words;
    for (; history != 0; history = entries_[history].parent) words.push_back(entries_[history].word);
    std::reverse(words.begin(), words.end());
    return words;
  }

 private:
  struct Entry {
    int parent, word;
    float score;
  };
  const WordLogProb& lm_;
  const LexiconDecodeOptions& options_;
  std::vector<Entry> entries_;
  absl::flat_hash_map<std::pair<int, int>, int> ids_;
};

}  // namespace

CtcLexiconDecoder::CtcLexiconDecoder(const std::vector<std::pair<int, std::vector<int>>>& pronunciations, int blank,
                                     int boundary, WordLogProb lm, LexiconDecodeOptions options)
    : nodes_(1), blank_(blank), boundary_(boundary), lm_(std::move(lm)), options_(options) {
  CHECK_GT(options_.beam, 0);
  for (const auto& [word, labels] : pronunciations) {
    CHECK_GE(word, 0);
    CHECK(!labels.empty()) << "word " << word << " has an empty pronunciation";
    int node = 0;
    for (int label : labels) {
      CHECK(label != blank_ && label != boundary_)
          << "word " << word << "'s pronunciation holds the blank or the boundary";
      auto it = nodes_[node].children.find(label);
      if (it == nodes_[node].children.end()) {
        it = nodes_[node].children.emplace(label, static_cast<int>(nodes_.size())).first;
        nodes_.push_back({{}, {}, label});
      }
      node = it->second;
    }
    std::vector<int>& words = nodes_[node].words;
    if (std::find(words.begin(), words.end(), word) == words.end()) words.push_back(word);
  }
}

std::vector<int> CtcLexiconDecoder::Decode(const std::vector<float>& log_probs, int64_t frames, int64_t classes) const {
  CHECK_EQ(static_cast<int64_t>(log_probs.size()), frames * classes);
  CHECK(blank_ < classes && boundary_ < classes) << classes << " classes hold neither the blank nor the boundary";
  Histories histories(lm_, options_);
  using Key = std::pair<int, int>;  // (history, trie node); node 0 between words
  struct Hypothesis {
    float score;  // its probability and its words' language-model score: what the beam ranks
    Key key;
    Probs probs;
  };
  std::vector<Hypothesis> beam{{0.f, {0, 0}, Probs{0.f, kNegInf}}};
  absl::flat_hash_map<Key, Probs> next;
  auto last_label = [&](const Key& key) {
    return key.second != 0 ? nodes_[key.second].label : histories.empty(key.first) ? -1 : boundary_;
  };
  for (int64_t t = 0; t < frames; ++t) {
    const float* lp = log_probs.data() + t * classes;
    // absl's clear() frees a table of more than 127 slots: reserving what the last frame needed spares the regrowth.
    const size_t expected = next.size();
    next.clear();
    next.reserve(expected);
    for (const Hypothesis& h : beam) {
      const Key& key = h.key;
      const Probs& p = h.probs;
      const float total = p.total();
      const int last = last_label(key);
      Probs& same = next[key];
      same.blank = LogAdd(same.blank, total + lp[blank_]);
      if (last >= 0) same.label = LogAdd(same.label, p.label + lp[last]);  // the last label again: collapsed
      // A new label after the last one: through a blank when it repeats the last label.
      auto emit = [&](int label, const Key& to, float cost = 0) {
        const float from = label == last ? p.blank : total;
        Probs& q = next[to];
        q.label = LogAdd(q.label, from + cost + lp[label]);
      };
      const Node& node = nodes_[key.second];
      for (const auto& [label, child] : node.children) {
        if (lp[label] >= options_.label_floor) emit(label, {key.first, child});
      }
      // A word ends here: the boundary, or (missing_boundary) the next word's first label, follows it.
      const bool boundary = lp[boundary_] >= options_.label_floor;
      const bool joined = options_.missing_boundary > kNegInf;
      if (!boundary && !joined) continue;
      for (int word : node.words) {
        const int history = histories.Extend(key.first, word);
        if (boundary) emit(boundary_, {history, 0});
        if (!joined) continue;
        for (const auto& [label, child] : nodes_[0].children) {
          if (lp[label] >= options_.label_floor) emit(label, {history, child}, options_.missing_boundary);
        }
      }
    }
    // The likeliest `beam` hypotheses, ties broken by key so that the search does not depend on the hash order.
    std::vector<Hypothesis> ranked;
    ranked.reserve(next.size());
    for (const auto& [key, p] : next) ranked.push_back({p.total() + histories.Score(key.first), key, p});
    const size_t keep = std::min<size_t>(ranked.size(), options_.beam);
    std::partial_sort(ranked.begin(), ranked.begin() + keep, ranked.end(),
                      [](const Hypothesis& a, const Hypothesis& b) {
                        return a.score != b.score ? a.score > b.score : a.key < b.key;
                      });
    ranked.resize(keep);
    beam = std::move(ranked);
  }
  // A transcript ends at the end of a word's pronunciation (or is empty), never after a boundary; a word's
  // pronunciations ending in the last frame sum.
  std::map<int, float> ends;  // history -> log-probability
  for (const Hypothesis& h : beam) {
    const Key& key = h.key;
    const Probs& p = h.probs;
    std::vector<int> candidates;
    if (key.second == 0) {
      if (histories.empty(key.first)) candidates.push_back(key.first);
    } else {
      for (int word : nodes_[key.second].words) candidates.push_back(histories.Extend(key.first, word));
    }
    for (int history : candidates) {
      auto [it, added] = ends.emplace(history, p.total());
      if (!added) it->second = LogAdd(it->second, p.total());
    }
  }
  float best = kNegInf;
  std::vector<int> out;
  for (const auto& [history, log_prob] : ends) {
    const float score = log_prob + histories.EndScore(history);
    if (score > best) best = score, out = histories.Words(history);
  }
  return out;
}

}  // namespace onemodel::model
