#include "tasks/text_output.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace onemodel::tasks {

absl::Status CheckDecodingFields(const TaskContext& context) {
  const config::TaskConfig& c = context.config;
  auto bad = [&](const char* field, const auto&... what) {
    return absl::InvalidArgumentError(absl::StrCat("config field ", context.field, ".", field, " must be ", what...));
  };
  if (c.max_length() < 2) return bad("max_length", ">= 2");
  if (c.beam_size() < 1) return bad("beam_size", ">= 1");
  if (!(c.length_penalty() >= 0 && c.length_penalty() <= 10)) {
    return bad("length_penalty", "in [0, 10], got ", c.length_penalty());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const data::SubwordVocab>> LoadVocabOption(const TaskContext& context) {
  const std::string model = OptionOr(context, "vocab_dir", kTranslationCacheDir) + "/subwords.model";
  if (!std::filesystem::exists(model)) {
    return absl::NotFoundError(absl::StrCat(OptionField(context, "vocab_dir"), ": ", model,
                                            " is missing; build it with `onemodel prepare-data translation`"));
  }
  return data::SubwordVocab::Load(model);
}

std::vector<int> TargetIds(const data::SubwordVocab& vocab, const std::string& text, int max_length) {
  std::vector<int> ids = vocab.Encode(text);
  if (static_cast<int>(ids.size()) >= max_length) ids.resize(max_length - 1);
  ids.push_back(data::kEosId);
  return ids;
}

std::pair<std::string, int> LongestTarget(const data::SubwordVocab& vocab, const std::vector<std::string>& texts) {
  std::pair<std::string, int> longest{"", 0};
  for (const std::string& text : texts) {
    const int ids = static_cast<int>(vocab.Encode(text).size()) + 1;
    if (ids > longest.second) longest = {text, ids};
  }
  return longest;
}

Tensor PaddedIds(const std::vector<const std::vector<int>*>& rows) {
  size_t longest = 0;
  for (const auto* r : rows) longest = std::max(longest, r->size());
  std::vector<int64_t> ids(rows.size() * longest, data::kPadId);
  for (size_t i = 0; i < rows.size(); ++i) std::copy(rows[i]->begin(), rows[i]->end(), ids.begin() + i * longest);
  return Tensor::FromIndices(ids, {static_cast<int64_t>(rows.size()), static_cast<int64_t>(longest)});
}

model::DecodeOptions DecodeOptionsOf(const config::TaskConfig& config) {
  model::DecodeOptions options;
  options.max_length = config.max_length();
  options.beam_size = config.beam_size();
  options.length_penalty = config.length_penalty();
  options.eos_id = data::kEosId;
  return options;
}

}  // namespace onemodel::tasks
