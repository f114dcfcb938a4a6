#include "data/idx.h"

#include <zlib.h>

#include "gtest/gtest.h"

namespace onemodel::data {
namespace {

std::string Gzip(const std::string& name, const std::string& bytes) {
  const std::string path = ::testing::TempDir() + "/" + name;
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
  return path;
}

std::string Be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

TEST(IdxTest, ReadsImagesAndLabels) {
  const std::string images = Gzip("img.gz", Be32(0x803) + Be32(2) + Be32(1) + Be32(2) + std::string("\x00\xff\x33\x66", 4));
  const std::string labels = Gzip("lab.gz", Be32(0x801) + Be32(2) + std::string("\x07\x02", 2));
  auto x = ReadIdxImages(images);
  ASSERT_TRUE(x.ok()) << x.status();
  EXPECT_EQ(x->shape(), (Shape{2, 1, 2}));
  EXPECT_EQ(x->ToVector(), (std::vector<float>{0.f, 1.f, 0x33 / 255.f, 0x66 / 255.f}));
  auto y = ReadIdxLabels(labels);
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ(y->ToIndices(), (std::vector<int64_t>{7, 2}));
}

TEST(IdxTest, BadFilesAreErrorsNamingTheFile) {
  const std::pair<std::string, std::string> cases[] = {
      {Be32(0x803) + Be32(2) + Be32(1) + Be32(2) + std::string(3, '\0'), "truncated or corrupt"},
      {Be32(0x801) + Be32(2) + Be32(1) + Be32(2) + std::string(4, '\0'), "IDX magic 0x00000801"},
      {std::string("\x00\x00", 2), "shorter than the IDX header"},
  };
  for (const auto& [bytes, expected] : cases) {
    const std::string path = Gzip("bad.gz", bytes);
    auto x = ReadIdxImages(path);
    ASSERT_FALSE(x.ok()) << expected;
    EXPECT_NE(x.status().message().find(expected), std::string::npos) << x.status();
    EXPECT_NE(x.status().message().find(path), std::string::npos) << x.status();
  }
  auto missing = ReadFashionMnist("/nonexistent", "train");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/train-images-idx3-ubyte.gz"), std::string::npos);
}

// The real test split from Debian's dataset-fashion-mnist (installed by tools/setup.sh).
TEST(IdxTest, DebianFashionMnistTestSplit) {
  auto data = ReadFashionMnist("/usr/share/datasets/fashion-mnist", "t10k");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->images.shape(), (Shape{10000, 28, 28}));
  std::vector<int> counts(10, 0);
  for (int64_t label : data->labels.ToIndices()) {
    ASSERT_TRUE(label >= 0 && label < 10);
    ++counts[label];
  }
  EXPECT_EQ(counts, std::vector<int>(10, 1000));  // the test split is balanced
}

}  // namespace
}  // namespace onemodel::data
