// Builds the translation data cache: <out>/translation/{train.tsv, test.tsv, subwords.model, manifest.json} (German TAB
// English per line; the manifest names the source packages and versions, the counts and each file's CRC-32C).
// Written into a temporary directory and renamed into place.
#ifndef ONEMODEL_DATA_TRANSLATION_BUILDER_H_
#define ONEMODEL_DATA_TRANSLATION_BUILDER_H_

#include <string>

#include "absl/status/statusor.h"
#include "data/translation_pairs.h"

namespace onemodel::data {

inline constexpr int kDefaultTranslationVocab = 4000;

// Returns the directory it wrote.
absl::StatusOr<std::string> BuildTranslationCache(const std::vector<TranslationSource>& sources,
                                                  const std::string& out_dir,
                                                  int vocab_size = kDefaultTranslationVocab);

}  // namespace onemodel::data

#endif  // ONEMODEL_DATA_TRANSLATION_BUILDER_H_
