#include "data/translation_pairs.h"

#include <fstream>
#include <set>

#include "gtest/gtest.h"

namespace onemodel::data {
namespace {

TEST(TranslationPairsTest, ParsesAlignedSentenceFields) {
  const auto pairs = SentencePairsOfLine(
      "Abend {m} | Das Abendessen hat mir geschmeckt. [ugs.] | Guten Abend! :: evening | I enjoyed my supper. | "
      "Good evening!");
  ASSERT_EQ(pairs.size(), 1u);  // "Guten Abend!" has 2 words, fewer than 3
  EXPECT_EQ(pairs[0].de, "Das Abendessen hat mir geschmeckt.");
  EXPECT_EQ(pairs[0].en, "I enjoyed my supper.");
  EXPECT_EQ(SentencePairsOfLine("Guten Abend! :: Good evening!", 2).size(), 1u);
}

TEST(TranslationPairsTest, VariantsPairOnlyWhenCountsMatch) {
  const auto same = SentencePairsOfLine("Er kam sehr spät.; Er kam viel zu spät. :: He came very late.; He came far too late.");
  ASSERT_EQ(same.size(), 2u);
  EXPECT_EQ(same[1].en, "He came far too late.");
  const auto differ = SentencePairsOfLine("Er kam sehr spät.; Er kam viel zu spät. :: He was very late.");
  ASSERT_EQ(differ.size(), 1u);
  EXPECT_EQ(differ[0].de, "Er kam sehr spät.");
}

TEST(TranslationPairsTest, SkipsCommentsWordEntriesAndMisalignedLines) {
  EXPECT_TRUE(SentencePairsOfLine("# Version :: devel").empty());
  EXPECT_TRUE(SentencePairsOfLine("Aal {m} :: eel").empty());
  EXPECT_TRUE(SentencePairsOfLine("Das ist gut. | Sehr gut. :: That is good.").empty());
  EXPECT_TRUE(SentencePairsOfLine("no separator at all.").empty());
}

TEST(TranslationPairsTest, FreedictExampleLines) {
  const auto en_de = FreedictExamplesOfLine(
      "      \"I've made one or two modifications to the original design.\"  - Ich habe am ursprünglichen Entwurf ein "
      "paar Änderungen vorgenommen.",
      /*english_first=*/true);
  ASSERT_EQ(en_de.size(), 1u);
  EXPECT_EQ(en_de[0].en, "I've made one or two modifications to the original design.");
  EXPECT_EQ(en_de[0].de, "Ich habe am ursprünglichen Entwurf ein paar Änderungen vorgenommen.");
  const auto de_en = FreedictExamplesOfLine("      \"Er kommt heute nicht.\"  - He is not coming today.", false);
  ASSERT_EQ(de_en.size(), 1u);
  EXPECT_EQ(de_en[0].de, "Er kommt heute nicht.");
  EXPECT_TRUE(FreedictExamplesOfLine("      \"Eel au bleu\"  - Aal blau, blauer Aal", true).empty());  // no sentence
  EXPECT_TRUE(FreedictExamplesOfLine("modification /mˌɒdɪfɪkˈeɪʃən/", true).empty());
  EXPECT_TRUE(FreedictExamplesOfLine("     \"Apfel\" is a masculine noun, we may infer that", true).empty());
}

TEST(TranslationPairsTest, MissingFileIsNamed) {
  auto s = ReadTranslationPairs({{"/nonexistent/de-en", TranslationSource::kTrans, "trans-de-en"}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("/nonexistent/de-en"), std::string::npos);
}

// The real dictionary from Debian's trans-de-en (tools/setup.sh installs it).
TEST(TranslationPairsTest, DebianDictionariesGiveDisjointStableSplits) {
  auto s = ReadTranslationPairs(DefaultTranslationSources());
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->pairs_per_source.size(), 3u);
  EXPECT_GT(s->pairs_per_source[1] + s->pairs_per_source[2], 100) << "FreeDict adds example sentences";
  EXPECT_GT(s->train.size(), 15000u);
  EXPECT_GT(s->test.size(), 300u);
  std::set<std::string> train_de, train_en;
  for (const auto& p : s->train) train_de.insert(p.de), train_en.insert(p.en);
  for (const auto& p : s->test) {
    EXPECT_EQ(train_de.count(p.de), 0u) << p.de;
    EXPECT_EQ(train_en.count(p.en), 0u) << p.en;
  }
  std::set<std::pair<std::string, std::string>> unique;
  for (const auto& p : s->train) unique.emplace(p.de, p.en);
  EXPECT_EQ(unique.size(), s->train.size());
  // The split depends on the sentences and the seed only (pinned: a change would silently move test pairs).
  auto again = ReadTranslationPairs(DefaultTranslationSources());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->test.size(), s->test.size());
  EXPECT_EQ(again->test.front().de, s->test.front().de);
}

}  // namespace
}  // namespace onemodel::data
