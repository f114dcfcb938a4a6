// German-English sentence pairs from Debian's trans-de-en (the TU Chemnitz dictionary,
// /usr/share/trans/de-en). A line is `de fields :: en fields`, fields separated by " | " and aligned across
// the two sides; a field holds "; "-separated variants and {grammar} [domain] annotations. Pairs whose two
// sides are sentences (end in . ! ?, at least `min_words` words) are kept, annotations removed, exact
// duplicates dropped. The test split is disjoint from training by source sentence in both directions: no
// German or English sentence of the test set occurs in training.
#ifndef ONEMODEL_DATA_TRANSLATION_PAIRS_H_
#define ONEMODEL_DATA_TRANSLATION_PAIRS_H_

#include <istream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace onemodel::data {

struct SentencePair {
  std::string de, en;
};

struct TranslationSplits {
  std::vector<SentencePair> train, test;
  int64_t lines_read = 0, dropped_for_overlap = 0;
};

// Extracts the sentence pairs of one dictionary line (none for word entries, comments, malformed lines).
std::vector<SentencePair> SentencePairsOfLine(const std::string& line, int min_words = 3);

// Reads a whole dictionary file. About `test_percent` of the distinct German sentences go to the test split
// (chosen by a hash of the sentence and `seed`, so the split is stable).
absl::StatusOr<TranslationSplits> ReadTranslationPairs(const std::string& path, int test_percent = 3, uint64_t seed = 1,
                                                       int min_words = 3);

}  // namespace onemodel::data

#endif  // ONEMODEL_DATA_TRANSLATION_PAIRS_H_
