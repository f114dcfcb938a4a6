#include "data/log_mel.h"

#include <cmath>
#include <complex>

#include "gtest/gtest.h"

namespace onemodel::data {
namespace {

std::vector<float> Tone(double hz, int n, int rate = 16000) {
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) x[i] = static_cast<float>(0.5 * std::sin(2 * M_PI * hz * i / rate));
  return x;
}

// FFTW's power spectrum against a direct DFT of the same windowed frame (an independent reference).
TEST(LogMelTest, PowerSpectrumEqualsADirectDft) {
  LogMelOptions o;
  std::vector<float> x = Tone(440, 1200);
  for (size_t i = 0; i < x.size(); ++i) x[i] += 0.1f * std::cos(0.37 * i * i);  // broadband content too
  const std::vector<float> fft = FramePowerSpectrum(x, 320, o);
  ASSERT_EQ(fft.size(), 257u);
  for (int k = 0; k < 257; ++k) {
    std::complex<double> sum = 0;
    for (int i = 0; i < o.window; ++i) {
      const double hann = 0.5 - 0.5 * std::cos(2 * M_PI * i / o.window);
      sum += x[320 + i] * hann * std::exp(std::complex<double>(0, -2 * M_PI * k * i / o.n_fft));
    }
    EXPECT_NEAR(fft[k], std::norm(sum), 1e-3 * (1 + std::norm(sum))) << "bin " << k;
  }
}

TEST(LogMelTest, FiltersAreTrianglesCoveringTheRange) {
  LogMelOptions o;
  const auto bank = MelFilterbank(o);
  ASSERT_EQ(bank.size(), 80u);
  for (const auto& filter : bank) {
    float peak = 0;
    int rises = 0;
    for (size_t k = 1; k < filter.size(); ++k) {
      peak = std::max(peak, filter[k]);
      rises += filter[k] > filter[k - 1] && filter[k - 1] == 0;
    }
    EXPECT_GT(peak, 0.3f);   // every filter catches at least one bin near its center
    EXPECT_LE(peak, 1.f);
    EXPECT_EQ(rises, 1);     // one triangle
  }
  // Bins between 20 Hz and 7600 Hz are covered; bins above are not.
  for (int k = 2; k < 240; ++k) {
    float total = 0;
    for (const auto& f : bank) total += f[k];
    EXPECT_GT(total, 0.f) << "bin " << k;
  }
  for (const auto& f : bank) EXPECT_EQ(f[250], 0.f);
}

TEST(LogMelTest, ATonePeaksInItsBandAndFramesFollowTheHop) {
  const Tensor low = LogMel(Tone(300, 16000)), high = LogMel(Tone(3000, 16000));
  ASSERT_EQ(low.shape(), (Shape{100, 80}));
  auto argmax = [](const Tensor& t, int64_t frame) {
    const std::vector<float> v = t.ToVector();
    int best = 0;
    for (int m = 1; m < 80; ++m) {
      if (v[frame * 80 + m] > v[frame * 80 + best]) best = m;
    }
    return best;
  };
  const int band_low = argmax(low, 50), band_high = argmax(high, 50);
  // 300 Hz and 3000 Hz on the mel scale from 20 to 7600 Hz, 81 intervals.
  auto band = [](double hz) {
    auto mel = [](double f) { return 2595 * std::log10(1 + f / 700); };
    return (mel(hz) - mel(20)) / (mel(7600) - mel(20)) * 81 - 1;
  };
  EXPECT_NEAR(band_low, band(300), 1.5);
  EXPECT_NEAR(band_high, band(3000), 1.5);
  // Silence is log(1e-6).
  const Tensor quiet = LogMel(std::vector<float>(480, 0.f));
  EXPECT_EQ(quiet.shape(), (Shape{3, 80}));
  EXPECT_NEAR(quiet.ToVector()[0], std::log(1e-6), 1e-3);
}

}  // namespace
}  // namespace onemodel::data
