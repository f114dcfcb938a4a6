#include "data/wav.h"

#include <cmath>
#include <fstream>

#include "gtest/gtest.h"

namespace onemodel::data {
namespace {

std::string Path(const std::string& name) { return ::testing::TempDir() + "/" + name; }

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Write(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

TEST(WavTest, RoundTrip) {
  Audio a;
  a.sample_rate = 8000;
  for (int i = 0; i < 100; ++i) a.samples.push_back(std::sin(i * 0.3f) * 0.5f);
  ASSERT_TRUE(WriteWav(Path("round.wav"), a).ok());
  absl::StatusOr<Audio> b = ReadWav(Path("round.wav"));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->sample_rate, 8000);
  ASSERT_EQ(b->samples.size(), a.samples.size());
  for (size_t i = 0; i < a.samples.size(); ++i) EXPECT_NEAR(b->samples[i], a.samples[i], 1.0 / 32768);
}

TEST(WavTest, RealRecordingOfTheTestSet) {
  const std::string file = "/usr/share/asterisk/sounds/en/digits/1.wav";  // Debian asterisk-core-sounds-en-wav
  if (!std::ifstream(file)) GTEST_SKIP() << file << " not installed";
  absl::StatusOr<Audio> a = ReadWav(file);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->sample_rate, 8000);
  EXPECT_EQ(a->samples.size(), 7290u);  // soxi: 7290 samples
}

// What bad audio looks like to a user: each case an error naming the file and the problem.
TEST(WavTest, BadFilesAreNamedErrors) {
  Audio a;
  a.sample_rate = 16000;
  a.samples.assign(50, 0.25f);
  ASSERT_TRUE(WriteWav(Path("good.wav"), a).ok());
  const std::string good = Bytes(Path("good.wav"));
  struct Case {
    std::string name, bytes, expect;
  };
  std::string eight_bit = good, stereo = good, float_format = good;
  eight_bit[34] = 8;     // bits per sample
  stereo[22] = 2;        // channels
  float_format[20] = 3;  // IEEE float
  const std::vector<Case> cases = {
      {"empty.wav", "", "empty file"},
      {"truncated_header.wav", good.substr(0, 20), "truncated"},
      {"truncated_data.wav", good.substr(0, 60), "truncated"},
      {"eight_bit.wav", eight_bit, "8-bit samples; expected 16-bit"},
      {"stereo.wav", stereo, "2 channels; expected mono"},
      {"float.wav", float_format, "sample format 3"},
      {"text.wav", "this is not audio, just some text", "not a RIFF/WAVE file"},
  };
  for (const Case& c : cases) {
    Write(Path(c.name), c.bytes);
    absl::StatusOr<Audio> r = ReadWav(Path(c.name));
    ASSERT_FALSE(r.ok()) << c.name;
    const std::string message(r.status().message());
    EXPECT_NE(message.find(Path(c.name)), std::string::npos) << message;
    EXPECT_NE(message.find(c.expect), std::string::npos) << message;
  }
}

TEST(WavTest, ResamplingASineGivesTheSineAtTheNewRate) {
  std::vector<float> x(800);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(2 * M_PI * 1000 * i / 8000.0);  // 1 kHz at 8 kHz
  const std::vector<float> y = Resample(x, 8000, 16000);
  ASSERT_EQ(y.size(), 1600u);
  for (size_t j = 200; j < 1400; ++j) EXPECT_NEAR(y[j], std::sin(2 * M_PI * 1000 * j / 16000.0), 0.01) << j;
  // Down: 16 kHz -> 8 kHz keeps the 1 kHz tone.
  const std::vector<float> z = Resample(y, 16000, 8000);
  for (size_t j = 100; j < 700; ++j) EXPECT_NEAR(z[j], x[j], 0.01) << j;
}

}  // namespace
}  // namespace onemodel::data
