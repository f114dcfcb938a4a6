#include "core/safetensors.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace onemodel {
namespace {

std::string TempPath(const std::string& name) { return ::testing::TempDir() + "/" + name; }

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A file with a header that we control: 8-byte length, JSON, then `data`.
std::string Handmade(const std::string& json, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((json.size() >> (8 * i)) & 0xff);
  return out + json + data;
}

NamedTensors SmallTensors() {
  return {{"weight", Tensor::FromVector({1, 2, 3, 4, 5, 6}, {2, 3})},
          {"ids", Tensor::FromIndices({7, -8}, {2})},
          {"scalar", Tensor::Scalar(0.5f)}};
}

TEST(SafetensorsTest, RoundTripsNamesDtypesShapesValuesAndMetadata) {
  const std::string path = TempPath("roundtrip.safetensors");
  ASSERT_TRUE(WriteSafetensors(path, SmallTensors(), {{"step", "12"}}).ok());
  auto reader = SafetensorsReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ(reader->Names(), (std::vector<std::string>{"ids", "scalar", "weight"}));
  EXPECT_EQ(reader->metadata().at("step"), "12");
  auto weight = reader->Read("weight", DType::kF32, {2, 3});
  ASSERT_TRUE(weight.ok()) << weight.status();
  EXPECT_EQ(weight->ToVector(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(reader->Read("ids")->ToIndices(), (std::vector<int64_t>{7, -8}));
  EXPECT_EQ(reader->Read("scalar")->shape(), Shape{});
  // The writer leaves no temporary file behind.
  EXPECT_FALSE(std::ifstream(path + ".tmp." + std::to_string(::getpid())).good());
}

TEST(SafetensorsTest, EveryTruncationIsACleanErrorNamingTheFile) {
  const std::string path = TempPath("whole.safetensors");
  ASSERT_TRUE(WriteSafetensors(path, SmallTensors()).ok());
  const std::string bytes = ReadBytes(path);
  const std::string cut = TempPath("cut.safetensors");
  for (size_t n = 0; n < bytes.size(); ++n) {
    WriteBytes(cut, bytes.substr(0, n));
    auto reader = SafetensorsReader::Open(cut);
    ASSERT_FALSE(reader.ok()) << "truncated at " << n << " of " << bytes.size() << " bytes was accepted";
    EXPECT_NE(reader.status().message().find(cut), std::string::npos) << reader.status();
  }
}

TEST(SafetensorsTest, OffsetsOutsideTheFileNameTheTensor) {
  const std::string path = TempPath("offsets.safetensors");
  WriteBytes(path, Handmade(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,800]}})", std::string(8, '\0')));
  auto reader = SafetensorsReader::Open(path);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.status().message().find("tensor 'w'"), std::string::npos) << reader.status();
  EXPECT_NE(reader.status().message().find("outside the data section"), std::string::npos) << reader.status();
}

TEST(SafetensorsTest, MalformedHeadersAreRejected) {
  const std::string path = TempPath("bad.safetensors");
  const std::pair<std::string, std::string> cases[] = {
      {"not json", "not a JSON object"},
      {R"({"w":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}})", "unsupported dtype"},
      {R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "non-integer dim"},
      {R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,4]}})", "needs 12"},
      {R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", "outside the data section"},
      {R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", "larger than the file"},
      {R"({"w":{"dtype":"F32","shape":[1]}})", "needs dtype, shape and data_offsets"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
       "overlaps"},
  };
  for (const auto& [json, expected] : cases) {
    WriteBytes(path, Handmade(json, std::string(8, '\0')));
    auto reader = SafetensorsReader::Open(path);
    ASSERT_FALSE(reader.ok()) << json;
    EXPECT_NE(reader.status().message().find(expected), std::string::npos) << json << " -> " << reader.status();
    EXPECT_NE(reader.status().message().find(path), std::string::npos) << reader.status();
  }
  // A header length larger than the file.
  std::string huge(8, '\xff');
  WriteBytes(path, huge + "{}");
  EXPECT_FALSE(SafetensorsReader::Open(path).ok());
}

TEST(SafetensorsTest, WrongDtypeShapeOrNameIsAnErrorNamingFileAndTensor) {
  const std::string path = TempPath("expect.safetensors");
  ASSERT_TRUE(WriteSafetensors(path, SmallTensors()).ok());
  auto reader = SafetensorsReader::Open(path);
  ASSERT_TRUE(reader.ok());
  auto wrong_dtype = reader->Read("weight", DType::kI64, {2, 3});
  ASSERT_FALSE(wrong_dtype.ok());
  EXPECT_NE(wrong_dtype.status().message().find("tensor 'weight' is f32 [2, 3], expected i64 [2, 3]"),
            std::string::npos)
      << wrong_dtype.status();
  auto wrong_shape = reader->Read("weight", DType::kF32, {3, 2});
  ASSERT_FALSE(wrong_shape.ok());
  EXPECT_NE(wrong_shape.status().message().find(path), std::string::npos);
  auto missing = reader->Read("bias");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no tensor named 'bias'"), std::string::npos) << missing.status();
}

TEST(SafetensorsTest, MissingFileAndUnwritableDirectory) {
  EXPECT_FALSE(SafetensorsReader::Open("/nonexistent/x.safetensors").ok());
  const absl::Status s = WriteSafetensors("/nonexistent/dir/x.safetensors", SmallTensors());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent/dir/x.safetensors"), std::string::npos) << s;
}

}  // namespace
}  // namespace onemodel
