#include "data/mel_warp.h"

#include <vector>

#include "gtest/gtest.h"

namespace onemodel::data {
namespace {

TEST(MelWarpTest, FactorOneChangesNothing) {
  std::vector<float> frames(3 * 8);
  for (size_t i = 0; i < frames.size(); ++i) frames[i] = static_cast<float>(i * i % 7);
  const std::vector<float> before = frames;
  WarpMelBands(1.f, 3, 8, frames.data());
  EXPECT_EQ(frames, before);
}

// A band ramp (band m holds m) read at alpha * m holds alpha * m: the spectrum squeezed down for alpha > 1 (a
// formant at band 6 now shows at band 5 for alpha 1.2), stretched up for alpha < 1; past the top band it holds the
// top band. Every frame is warped alike, and only the `length` frames given.
TEST(MelWarpTest, BandMReadsBandAlphaTimesM) {
  const int mels = 10;
  for (float alpha : {1.2f, 0.85f}) {
    std::vector<float> frames(3 * mels);
    for (int t = 0; t < 3; ++t) {
      for (int m = 0; m < mels; ++m) frames[t * mels + m] = static_cast<float>(m + 100 * t);
    }
    WarpMelBands(alpha, 2, mels, frames.data());
    for (int t = 0; t < 3; ++t) {
      for (int m = 0; m < mels; ++m) {
        const float expected = t == 2 ? m : std::min(alpha * m, mels - 1.f);
        EXPECT_NEAR(frames[t * mels + m], expected + 100 * t, 1e-4f) << "alpha " << alpha << " t " << t << " m " << m;
      }
    }
  }
}

TEST(MelWarpTest, FactorsAreUniformInTheRangeAndDifferByRow) {
  const RngKey key{3, 7, 1, 64};
  float lowest = 2, highest = 0;
  for (uint64_t row = 0; row < 1000; ++row) {
    const float a = MelWarpFactor(0.2f, key, row);
    lowest = std::min(lowest, a), highest = std::max(highest, a);
    EXPECT_EQ(a, MelWarpFactor(0.2f, key, row));
  }
  EXPECT_GE(lowest, 0.8f);
  EXPECT_LE(highest, 1.2f);
  EXPECT_LT(lowest, 0.81f);
  EXPECT_GT(highest, 1.19f);
  EXPECT_NE(MelWarpFactor(0.2f, key, 0), MelWarpFactor(0.2f, key, 1));
}

}  // namespace
}  // namespace onemodel::data
