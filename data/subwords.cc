#include "data/subwords.h"

#include <filesystem>

#include "absl/strings/str_cat.h"

namespace onemodel::data {

absl::Status TrainSubwords(const std::string& text_file, const std::string& model_prefix, int vocab_size,
                           int threads) {
  if (vocab_size < 8) return absl::InvalidArgumentError(absl::StrCat("subword vocab_size must be >= 8, got ", vocab_size));
  if (!std::filesystem::exists(text_file)) return absl::NotFoundError(absl::StrCat(text_file, ": no such file"));
  const std::string error = spm::Train({{"input", text_file},
                                        {"model_prefix", model_prefix},
                                        {"vocab_size", absl::StrCat(vocab_size)},
                                        {"model_type", "unigram"},
                                        {"character_coverage", "1.0"},
                                        {"pad_id", absl::StrCat(kPadId)},
                                        {"unk_id", absl::StrCat(kUnkId)},
                                        {"eos_id", absl::StrCat(kEosId)},
                                        {"bos_id", "-1"},
                                        {"shuffle_input_sentence", "false"},
                                        {"num_threads", absl::StrCat(threads)},
                                        {"minloglevel", "2"}});
  if (!error.empty()) return absl::InternalError(absl::StrCat(text_file, ": SentencePiece training failed: ", error));
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const SubwordVocab>> SubwordVocab::Load(const std::string& model_path) {
  std::shared_ptr<SubwordVocab> vocab(new SubwordVocab());
  const std::string error = vocab->processor_.Load(model_path);
  if (!error.empty()) return absl::NotFoundError(absl::StrCat(model_path, ": cannot load subword model: ", error));
  vocab->path_ = model_path;
  return std::shared_ptr<const SubwordVocab>(std::move(vocab));
}

std::string SubwordVocab::Decode(const std::vector<int>& ids) const {
  std::vector<int> kept;
  for (int id : ids) {
    if (id == kEosId) break;
    if (id != kPadId) kept.push_back(id);
  }
  return processor_.Decode(kept);
}

}  // namespace onemodel::data
