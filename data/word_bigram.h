// A word bigram language model with Witten-Bell smoothing (Witten & Bell 1991; Chen & Goodman 1998 §2.4):
// P(w | v) = (c(v w) + T(v) P1(w)) / (c(v) + T(v)), T(v) the number of distinct words seen after v, interpolated
// with add-one unigrams P1 over the vocabulary and the end of sentence. Trained on transcripts; speech decoding
// over a pronunciation dictionary scores words with it (model/ctc_lexicon_decoder.h).
#ifndef ONEMODEL_DATA_WORD_BIGRAM_H_
#define ONEMODEL_DATA_WORD_BIGRAM_H_

#include <map>
#include <utility>
#include <vector>

namespace onemodel::data {

class WordBigram {
 public:
  // `sentences`: word ids in [0, vocabulary).
  WordBigram(const std::vector<std::vector<int>>& sentences, int vocabulary);

  // log P(word | previous); previous -1: the start of a sentence; word -1: its end.
  float LogProb(int previous, int word) const;

 private:
  double Unigram(int word) const;

  int vocabulary_;
  std::vector<double> unigram_counts_;           // [vocabulary + 1]: words, then the end of sentence
  double tokens_ = 0;                            // their sum
  std::map<int, std::pair<double, double>> history_;  // v -> (c(v), T(v))
  std::map<std::pair<int, int>, double> bigram_counts_;
};

}  // namespace onemodel::data

#endif  // ONEMODEL_DATA_WORD_BIGRAM_H_
