// Corpus BLEU as sacrebleu computes it by default: mteval-v13a tokenization, n-grams up to 4, clipped counts,
// brevity penalty over the corpus, and the "exp" (NIST) smoothing of zero-match orders. One reference per
// segment. Checked against sacrebleu itself in bleu_test.
#ifndef ONEMODEL_TASKS_METRICS_BLEU_H_
#define ONEMODEL_TASKS_METRICS_BLEU_H_

#include <string>
#include <vector>

namespace onemodel::metrics {

// sacrebleu's "13a" tokenizer (mteval-v13a): entities, punctuation split off, periods and commas split unless
// next to digits, dashes after digits. Whitespace is ASCII only.
std::string Tokenize13a(const std::string& line);

struct BleuScore {
  double score = 0;  // 0 - 100
  double precisions[4] = {0, 0, 0, 0};
  double brevity_penalty = 0;
  int64_t hypothesis_length = 0, reference_length = 0;
};

BleuScore CorpusBleu(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references);

}  // namespace onemodel::metrics

#endif  // ONEMODEL_TASKS_METRICS_BLEU_H_
