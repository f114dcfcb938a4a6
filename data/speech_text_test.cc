#include "data/speech_text.h"

#include <map>
#include <set>

#include "gtest/gtest.h"

namespace onemodel::data {
namespace {

TEST(SpeechTextTest, NumbersInWords) {
  EXPECT_EQ(NumberWords(0), "zero");
  EXPECT_EQ(NumberWords(13), "thirteen");
  EXPECT_EQ(NumberWords(40), "forty");
  EXPECT_EQ(NumberWords(99), "ninety nine");
  EXPECT_EQ(NumberWords(100), "one hundred");
  EXPECT_EQ(NumberWords(4211), "four thousand two hundred eleven");
  EXPECT_EQ(NumberWords(70005), "seventy thousand five");
}

TEST(SpeechTextTest, TranscriptsAreLowerCaseWordsWithNumbersSpelledOut) {
  EXPECT_EQ(NormalizeTranscript("Please enter your password, followed by the pound key."),
            "please enter your password followed by the pound key");
  EXPECT_EQ(NormalizeTranscript("Press 1 to mute, 2 to lock."), "press one to mute two to lock");
  EXPECT_EQ(NormalizeTranscript("Call-Forward on No Answer."), "call forward on no answer");
  EXPECT_EQ(NormalizeTranscript("You're next; press # or *"), "you're next press pound or star");
  EXPECT_EQ(NormalizeTranscript("  "), "");
}

TEST(SpeechTextTest, PhonemeSymbolsOfEspeakIpa) {
  using V = std::vector<std::string>;
  EXPECT_EQ(PhonemeSymbols("tˈuː θɹˈiː\n"), (V{"t", "uː", "|", "θ", "ɹ", "iː"}));
  // Clauses on lines of their own, leading and repeated spaces: one boundary between words, none at the ends.
  EXPECT_EQ(PhonemeSymbols("  sˈɛvən\nfˈoːɹ   nˈaɪnɚ \n"),
            (V{"s", "ɛ", "v", "ə", "n", "|", "f", "oː", "ɹ", "|", "n", "a", "ɪ", "n", "ɚ"}));
  EXPECT_EQ(PhonemeSymbols("dʲˌa"), (V{"dʲ", "a"}));  // palatalized; secondary stress dropped
  EXPECT_TRUE(PhonemeSymbols(" \n").empty());
}

TEST(SpeechTextTest, PoolIsDeterministicAndVaried) {
  const std::vector<std::string> vocabulary = {"press", "pound", "key", "goodbye"};
  EXPECT_EQ(PoolUtterance(1, 5, vocabulary), PoolUtterance(1, 5, vocabulary));
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string u = PoolUtterance(1, i, vocabulary);
    EXPECT_FALSE(u.empty());
    EXPECT_EQ(u, NormalizeTranscript(u)) << "pool text is already normalized";
    seen.insert(u);
  }
  EXPECT_GT(seen.size(), 150u);
}

TEST(SpeechTextTest, PoolKindOfATranscript) {
  EXPECT_EQ(PoolKind("four nine zero"), "digits");
  EXPECT_EQ(PoolKind("four thousand two hundred fifty eight"), "numbers");
  EXPECT_EQ(PoolKind("seventeen"), "numbers");
  EXPECT_EQ(PoolKind("k r l"), "letters");
  EXPECT_EQ(PoolKind("a"), "letters");
  EXPECT_EQ(PoolKind("press one"), "words");
  EXPECT_EQ(PoolKind(""), "words");
  // The pool draws its four kinds evenly, and they read back as such but for a few short ones (a number below ten
  // reads as digits); a transcript with a vocabulary word reads as words.
  std::map<std::string, int> kinds;
  for (int64_t i = 0; i < 400; ++i) {
    const std::string text = PoolUtterance(5, i, {"hello", "world"});
    ++kinds[PoolKind(text)];
    if (text.find("hello") != std::string::npos || text.find("world") != std::string::npos) {
      EXPECT_EQ(PoolKind(text), "words") << text;
    }
  }
  ASSERT_EQ(kinds.size(), 4u);
  for (const auto& [kind, count] : kinds) EXPECT_GT(count, 60) << kind;
}

}  // namespace
}  // namespace onemodel::data
