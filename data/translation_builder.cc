#include "data/translation_builder.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "data/packages.h"
#include "data/subwords.h"
#include "data/translation_pairs.h"
#include "nlohmann/json.hpp"
#include "train/crc32c.h"

namespace onemodel::data {
namespace {

absl::StatusOr<uint32_t> WriteTsv(const std::string& path, const std::vector<SentencePair>& pairs) {
  std::string text;
  for (const SentencePair& p : pairs) absl::StrAppend(&text, p.de, "\t", p.en, "\n");
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out.flush()) return absl::InternalError(absl::StrCat(path, ": write failed"));
  return Crc32c(text.data(), text.size());
}

}  // namespace

absl::StatusOr<std::string> BuildTranslationCache(const std::vector<TranslationSource>& sources,
                                                  const std::string& out_dir, int vocab_size) {
  absl::StatusOr<TranslationSplits> splits = ReadTranslationPairs(sources);
  if (!splits.ok()) return splits.status();
  namespace fs = std::filesystem;
  const std::string final_dir = absl::StrCat(out_dir, "/translation");
  const std::string tmp_dir = absl::StrCat(final_dir, ".tmp.", ::getpid());
  std::error_code ec;
  fs::remove_all(tmp_dir, ec);
  fs::create_directories(tmp_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat(tmp_dir, ": cannot create: ", ec.message()));
  nlohmann::json manifest = {{"task", "translation"},
                             {"lines_read", splits->lines_read},
                             {"dropped_for_overlap", splits->dropped_for_overlap}};
  for (size_t i = 0; i < sources.size(); ++i) {
    manifest["sources"].push_back({{"path", sources[i].path},
                                   {"package", sources[i].package},
                                   {"package_version", PackageVersion(sources[i].package)},
                                   {"new_pairs", splits->pairs_per_source[i]}});
  }
  for (const auto& [name, pairs] : {std::make_pair("train", &splits->train), std::make_pair("test", &splits->test)}) {
    absl::StatusOr<uint32_t> crc = WriteTsv(absl::StrCat(tmp_dir, "/", name, ".tsv"), *pairs);
    if (!crc.ok()) return crc.status();
    manifest["files"][absl::StrCat(name, ".tsv")] = {{"pairs", pairs->size()}, {"crc32c", *crc}};
  }
  // The subword vocabulary is shared by both directions: trained on both sides of the training pairs only.
  const std::string text_path = absl::StrCat(tmp_dir, "/subword_text.txt");
  {
    std::ofstream text(text_path);
    for (const SentencePair& p : splits->train) text << p.de << "\n" << p.en << "\n";
  }
  absl::Status trained = TrainSubwords(text_path, absl::StrCat(tmp_dir, "/subwords"), vocab_size);
  if (!trained.ok()) return trained;
  fs::remove(text_path, ec);
  manifest["subwords"] = {{"model", "subwords.model"}, {"vocab_size", vocab_size}, {"type", "sentencepiece unigram"}};
  std::ofstream(absl::StrCat(tmp_dir, "/manifest.json")) << manifest.dump(2) << "\n";
  fs::remove_all(final_dir, ec);
  fs::rename(tmp_dir, final_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat(final_dir, ": cannot move into place: ", ec.message()));
  return final_dir;
}

}  // namespace onemodel::data
