#include "tasks/speech/word_lexicon.h"

#include <set>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace onemodel::tasks {

absl::StatusOr<std::unique_ptr<WordLexicon>> WordLexicon::Build(const std::vector<std::string>& transcripts,
                                                                const std::vector<std::vector<int>>& phonemes,
                                                                const std::map<std::string, int>& ids,
                                                                model::LexiconDecodeOptions options) {
  const auto boundary = ids.find("|");
  if (boundary == ids.end()) return absl::FailedPreconditionError("the phoneme inventory has no word boundary \"|\"");
  std::map<std::string, int> word_ids;
  std::set<std::pair<int, std::vector<int>>> pronunciations;
  std::vector<std::vector<int>> sentences;
  for (size_t i = 0; i < transcripts.size(); ++i) {
    const std::vector<std::string> words = absl::StrSplit(transcripts[i], ' ', absl::SkipEmpty());
    std::vector<std::vector<int>> spoken(1);
    for (int label : phonemes[i]) {
      if (label == boundary->second) {
        spoken.emplace_back();
      } else {
        spoken.back().push_back(label);
      }
    }
    if (spoken.size() != words.size()) continue;
    std::vector<int>& sentence = sentences.emplace_back();
    for (size_t w = 0; w < words.size(); ++w) {
      const int id = word_ids.emplace(words[w], static_cast<int>(word_ids.size())).first->second;
      sentence.push_back(id);
      if (!spoken[w].empty()) pronunciations.emplace(id, spoken[w]);
    }
  }
  if (pronunciations.empty()) return absl::FailedPreconditionError("no training transcript pairs words with phonemes");
  std::vector<std::string> words(word_ids.size());
  for (const auto& [word, id] : word_ids) words[id] = word;
  auto lm = std::make_unique<data::WordBigram>(sentences, static_cast<int>(words.size()));
  const data::WordBigram* lm_ptr = lm.get();
  auto decoder = std::make_unique<model::CtcLexiconDecoder>(
      std::vector<std::pair<int, std::vector<int>>>(pronunciations.begin(), pronunciations.end()), 0,
      boundary->second, [lm_ptr](int previous, int word) { return lm_ptr->LogProb(previous, word); }, options);
  return std::unique_ptr<WordLexicon>(new WordLexicon(std::move(words), std::move(lm), std::move(decoder),
                                                      static_cast<int64_t>(pronunciations.size())));
}

std::string WordLexicon::Decode(const std::vector<float>& log_probs, int64_t classes) const {
  std::vector<std::string> out;
  for (int id : decoder_->Decode(log_probs, static_cast<int64_t>(log_probs.size()) / classes, classes)) {
    out.push_back(words_[id]);
  }
  return absl::StrJoin(out, " ");
}

}  // namespace onemodel::tasks
