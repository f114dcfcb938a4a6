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
  std::vector<int64_t> pairs_per_source;  // new (not yet seen) pairs each source contributed
};

// A file of sentence pairs: trans-de-en's dictionary, or a FreeDict dictd database (its example sentences,
// lines `      "example"  - translation`; plain or dictzip-compressed).
struct TranslationSource {
  enum Format { kTrans, kFreedictEnDe, kFreedictDeEn };
  std::string path;
  Format format = kTrans;
  std::string package;  // the Debian package that ships it
};

// The default sources: trans-de-en, then FreeDict eng-deu and deu-eng.
inline std::vector<TranslationSource> DefaultTranslationSources() {
  return {{"/usr/share/trans/de-en", TranslationSource::kTrans, "trans-de-en"},
          {"/usr/share/dictd/freedict-eng-deu.dict.dz", TranslationSource::kFreedictEnDe, "dict-freedict-eng-deu"},
          {"/usr/share/dictd/freedict-deu-eng.dict.dz", TranslationSource::kFreedictDeEn, "dict-freedict-deu-eng"}};
}

// Extracts the sentence pairs of one dictionary line (none for word entries, comments, malformed lines).
std::vector<SentencePair> SentencePairsOfLine(const std::string& line, int min_words = 3);
// The example-sentence pair of one FreeDict line, if it is one (English first in eng-deu).
std::vector<SentencePair> FreedictExamplesOfLine(const std::string& line, bool english_first, int min_words = 3);

// Reads every source; exact duplicate pairs are dropped. About `test_percent` of the distinct German
// sentences go to the test split (chosen by a stable hash of the sentence and `seed`).
absl::StatusOr<TranslationSplits> ReadTranslationPairs(const std::vector<TranslationSource>& sources,
                                                       int test_percent = 3, uint64_t seed = 1, int min_words = 3);

}  // namespace onemodel::data

#endif  // ONEMODEL_DATA_TRANSLATION_PAIRS_H_
