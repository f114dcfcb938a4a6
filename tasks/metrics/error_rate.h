// Word and character error rates as jiwer computes them by default: over a corpus, the total edit distance
// (substitutions + deletions + insertions) divided by the total reference length. WER: runs of whitespace
// collapse, the ends are stripped, words split on spaces. CER: the ends are stripped, every Unicode code
// point (spaces included) is a symbol. Checked against jiwer itself in error_rate_test.
#ifndef ONEMODEL_TASKS_METRICS_ERROR_RATE_H_
#define ONEMODEL_TASKS_METRICS_ERROR_RATE_H_

#include <string>
#include <vector>

namespace onemodel::metrics {

struct ErrorRate {
  double rate = 0;          // edits / reference symbols
  int64_t edits = 0;
  int64_t reference_symbols = 0;
};

ErrorRate WordErrorRate(const std::vector<std::string>& references, const std::vector<std::string>& hypotheses);
ErrorRate CharacterErrorRate(const std::vector<std::string>& references, const std::vector<std::string>& hypotheses);

}  // namespace onemodel::metrics

#endif  // ONEMODEL_TASKS_METRICS_ERROR_RATE_H_
