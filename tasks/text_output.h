// What the tasks that write text share (DESIGN §5): checks of the decoding fields, the shared English/German
// subword vocabulary (one symbol modality for translation, captions and transcripts), target ids and padding.
#ifndef ONEMODEL_TASKS_TEXT_OUTPUT_H_
#define ONEMODEL_TASKS_TEXT_OUTPUT_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "data/subwords.h"
#include "model/decoding.h"
#include "tasks/task.h"

namespace onemodel::tasks {

inline constexpr char kTranslationCacheDir[] = "data_cache/translation";
// The vocabulary name the shared symbol modality is registered under.
inline constexpr char kSharedVocabulary[] = "translation";

// max_length >= 2 and beam_size >= 1, or an error naming the field.
absl::Status CheckDecodingFields(const TaskContext& context);

// `<dir>/subwords.model` for `dir` = option `vocab_dir` (default: the translation cache), or an error naming the
// field and the command that builds it.
absl::StatusOr<std::shared_ptr<const data::SubwordVocab>> LoadVocabOption(const TaskContext& context);

// The subwords of `text` cut to max_length - 1, then end of sentence.
std::vector<int> TargetIds(const data::SubwordVocab& vocab, const std::string& text, int max_length);

// The longest of `texts` in `vocab`'s subwords, end of sentence included, and its length: what max_length must hold
// for none of them to be cut.
std::pair<std::string, int> LongestTarget(const data::SubwordVocab& vocab, const std::vector<std::string>& texts);

// [rows, longest] i64, 0-padded.
Tensor PaddedIds(const std::vector<const std::vector<int>*>& rows);

// Decoding as the task config asks (max_length, beam_size), ending at end of sentence.
model::DecodeOptions DecodeOptionsOf(const config::TaskConfig& config);

}  // namespace onemodel::tasks

#endif  // ONEMODEL_TASKS_TEXT_OUTPUT_H_
