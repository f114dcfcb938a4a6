#include "data/word_bigram.h"

#include <cmath>

#include "glog/logging.h"

namespace onemodel::data {

WordBigram::WordBigram(const std::vector<std::vector<int>>& sentences, int vocabulary)
    : vocabulary_(vocabulary), unigram_counts_(vocabulary + 1, 0.0) {
  for (const std::vector<int>& sentence : sentences) {
    int previous = -1;
    for (size_t i = 0; i <= sentence.size(); ++i) {
      const int word = i < sentence.size() ? sentence[i] : -1;
      CHECK(word >= -1 && word < vocabulary) << "word id " << word << " outside a vocabulary of " << vocabulary;
      unigram_counts_[word < 0 ? vocabulary : word] += 1;
      tokens_ += 1;
      auto& [count, types] = history_[previous];
      count += 1;
      if ((bigram_counts_[{previous, word}] += 1) == 1) types += 1;
      previous = word;
    }
  }
}

double WordBigram::Unigram(int word) const {
  return (unigram_counts_[word < 0 ? vocabulary_ : word] + 1) / (tokens_ + vocabulary_ + 1);
}

float WordBigram::LogProb(int previous, int word) const {
  CHECK(word >= -1 && word < vocabulary_ && previous >= -1 && previous < vocabulary_);
  const auto h = history_.find(previous);
  if (h == history_.end()) return static_cast<float>(std::log(Unigram(word)));
  const auto [count, types] = h->second;
  const auto b = bigram_counts_.find({previous, word});
  const double pair = b == bigram_counts_.end() ? 0 : b->second;
  return static_cast<float>(std::log((pair + types * Unigram(word)) / (count + types)));
}

}  // namespace onemodel::data
