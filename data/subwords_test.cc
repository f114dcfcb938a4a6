#include "data/subwords.h"

#include <cstdlib>
#include <fstream>

#include "gtest/gtest.h"

namespace onemodel::data {
namespace {

TEST(SubwordsTest, TrainsEncodesAndDecodesRoundTrip) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  {
    std::ofstream text(dir + "/text.txt");
    const char* lines[] = {"Der Hund läuft schnell über die Straße.", "The dog runs quickly across the street.",
                           "Ich habe heute keine Zeit.", "I have no time today.", "Das Wetter ist schön.",
                           "The weather is nice."};
    for (int i = 0; i < 50; ++i) text << lines[i % 6] << "\n";
  }
  const absl::Status trained = TrainSubwords(dir + "/text.txt", dir + "/sp", 40);
  ASSERT_TRUE(trained.ok()) << trained;
  absl::StatusOr<std::shared_ptr<const SubwordVocab>> vocab = SubwordVocab::Load(dir + "/sp.model");
  ASSERT_TRUE(vocab.ok()) << vocab.status();
  EXPECT_EQ((*vocab)->size(), 40);
  EXPECT_EQ((*vocab)->Piece(kPadId), "<pad>");
  EXPECT_EQ((*vocab)->Piece(kEosId), "</s>");
  const std::string sentence = "Der Hund hat heute keine Zeit.";
  std::vector<int> ids = (*vocab)->Encode(sentence);
  for (int id : ids) EXPECT_GE(id, 3);
  EXPECT_EQ((*vocab)->Decode(ids), sentence);
  ids.push_back(kEosId);
  ids.push_back(7);  // after the end of sentence: ignored
  EXPECT_EQ((*vocab)->Decode(ids), sentence);
}

TEST(SubwordsTest, ErrorsNameTheFile) {
  absl::StatusOr<std::shared_ptr<const SubwordVocab>> vocab = SubwordVocab::Load("/nonexistent/sp.model");
  ASSERT_FALSE(vocab.ok());
  EXPECT_NE(vocab.status().message().find("/nonexistent/sp.model"), std::string::npos);
  const absl::Status trained = TrainSubwords("/nonexistent/text.txt", "/tmp/x", 100);
  EXPECT_NE(trained.message().find("/nonexistent/text.txt"), std::string::npos);
}

}  // namespace
}  // namespace onemodel::data
