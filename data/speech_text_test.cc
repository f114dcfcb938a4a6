#include "data/speech_text.h"

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

}  // namespace
}  // namespace onemodel::data
