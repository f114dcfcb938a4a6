#include "tasks/speech/word_lexicon.h"

#include <cmath>

#include "gtest/gtest.h"

namespace onemodel::tasks {
namespace {

// Phoneme labels: 0 blank, 1 "|", then the sounds.
const std::map<std::string, int> kIds = {{"|", 1}, {"t", 2}, {"uː", 3}, {"w", 4}, {"ʌ", 5}, {"n", 6}, {"ə", 7}};

// Peaky log-probabilities [frames][classes] spelling `labels`, a blank after each.
std::vector<float> Spelling(const std::vector<int>& labels) {
  const int classes = static_cast<int>(kIds.size()) + 1;
  std::vector<float> out;
  for (int label : labels) {
    for (int emitted : {label, 0}) {
      for (int c = 0; c < classes; ++c) out.push_back(std::log(c == emitted ? 0.9f : 0.1f / (classes - 1)));
    }
  }
  return out;
}

TEST(WordLexiconTest, DecodesTheTrainingWordsAndTellsHomophonesApartByTheirNeighbours) {
  // "two" and "to" sound alike (t uː); "two" comes among numbers, "to" after "want".
  const std::vector<std::string> transcripts = {"one two", "two one", "want to", "want to", "one two two",
                                                "one want"};  // the last one's phonemes pair badly: left out
  const std::vector<std::vector<std::string>> phonemes = {
      {"w", "ʌ", "n", "|", "t", "uː"}, {"t", "uː", "|", "w", "ʌ", "n"}, {"w", "ʌ", "n", "t", "|", "t", "uː"},
      {"w", "ʌ", "n", "t", "|", "t", "ə"}, {"w", "ʌ", "n", "|", "t", "uː", "|", "t", "uː"}, {"w", "ʌ", "n"}};
  std::vector<std::vector<int>> labels;
  for (const auto& symbols : phonemes) {
    std::vector<int>& row = labels.emplace_back();
    for (const std::string& symbol : symbols) row.push_back(kIds.at(symbol));
  }
  absl::StatusOr<std::unique_ptr<WordLexicon>> lexicon = WordLexicon::Build(transcripts, labels, kIds, {});
  ASSERT_TRUE(lexicon.ok()) << lexicon.status();
  EXPECT_EQ((*lexicon)->words(), 4);
  EXPECT_EQ((*lexicon)->pronunciations(), 5);  // one, two, want, and "to" twice (t uː, t ə)
  const int64_t classes = static_cast<int64_t>(kIds.size()) + 1;
  EXPECT_EQ((*lexicon)->Decode(Spelling({4, 5, 6, 1, 2, 3}), classes), "one two");
  EXPECT_EQ((*lexicon)->Decode(Spelling({4, 5, 6, 2, 1, 2, 3}), classes), "want to");
  EXPECT_EQ((*lexicon)->Decode(Spelling({4, 5, 6, 2, 1, 2, 7}), classes), "want to");
}

TEST(WordLexiconTest, AnInventoryWithoutWordBoundariesIsAnError) {
  absl::StatusOr<std::unique_ptr<WordLexicon>> lexicon =
      WordLexicon::Build({"two"}, {{1, 2}}, {{"t", 1}, {"uː", 2}}, {});
  EXPECT_FALSE(lexicon.ok());
  EXPECT_NE(lexicon.status().message().find("no word boundary"), std::string::npos);
}

}  // namespace
}  // namespace onemodel::tasks
