// Builds the translation data cache: <out>/translation/{train.tsv, test.tsv, manifest.json} (German TAB
// English per line; the manifest names the source package and version, the counts and each file's CRC-32C).
// Written into a temporary directory and renamed into place.
#ifndef ONEMODEL_DATA_TRANSLATION_BUILDER_H_
#define ONEMODEL_DATA_TRANSLATION_BUILDER_H_

#include <string>

#include "absl/status/statusor.h"

namespace onemodel::data {

// Returns the directory it wrote.
absl::StatusOr<std::string> BuildTranslationCache(const std::string& source, const std::string& out_dir);

}  // namespace onemodel::data

#endif  // ONEMODEL_DATA_TRANSLATION_BUILDER_H_
