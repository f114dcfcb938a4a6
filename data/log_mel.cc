#include "data/log_mel.h"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

#include "glog/logging.h"

namespace onemodel::data {
namespace {

double HzToMel(double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); }
double MelToHz(double mel) { return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0); }

// FFTW's planner is not thread-safe; executing a plan on other (equally aligned) buffers is. One plan per size.
fftwf_plan PlanFor(int n_fft) {
  static std::mutex mu;
  static std::map<int, fftwf_plan>* plans = new std::map<int, fftwf_plan>;
  std::lock_guard<std::mutex> lock(mu);
  auto it = plans->find(n_fft);
  if (it != plans->end()) return it->second;
  float* in = fftwf_alloc_real(n_fft);
  fftwf_complex* out = fftwf_alloc_complex(n_fft / 2 + 1);
  fftwf_plan plan = fftwf_plan_dft_r2c_1d(n_fft, in, out, FFTW_ESTIMATE);
  fftwf_free(in);
  fftwf_free(out);
  CHECK(plan != nullptr) << "FFTW: no plan for size " << n_fft;
  return plans->emplace(n_fft, plan).first->second;
}

void CheckOptions(const LogMelOptions& o) {
  CHECK(o.n_fft >= o.window && o.window > 0 && o.hop > 0 && o.mels > 0 && o.sample_rate > 0)
      << "LogMel: needs n_fft >= window > 0, hop > 0, mels > 0";
  CHECK(0 <= o.min_hz && o.min_hz < o.max_hz && o.max_hz <= o.sample_rate / 2.f)
      << "LogMel: needs 0 <= min_hz < max_hz <= sample_rate / 2";
}

// Power spectra of frames [first, last) into rows of `out` (bins floats each), with FFTW buffers of this call.
void PowerSpectra(const std::vector<float>& x, int64_t first, int64_t last, const LogMelOptions& o,
                  const std::vector<float>& hann, float* out) {
  const int bins = o.n_fft / 2 + 1;
  float* in = fftwf_alloc_real(o.n_fft);
  fftwf_complex* spectrum = fftwf_alloc_complex(bins);
  const fftwf_plan plan = PlanFor(o.n_fft);
  for (int64_t f = first; f < last; ++f) {
    const int64_t start = f * o.hop;
    for (int i = 0; i < o.n_fft; ++i) {
      const int64_t at = start + i;
      in[i] = i < o.window && at < static_cast<int64_t>(x.size()) ? x[at] * hann[i] : 0.f;
    }
    fftwf_execute_dft_r2c(plan, in, spectrum);
    for (int k = 0; k < bins; ++k) {
      out[(f - first) * bins + k] = spectrum[k][0] * spectrum[k][0] + spectrum[k][1] * spectrum[k][1];
    }
  }
  fftwf_free(in);
  fftwf_free(spectrum);
}

std::vector<float> Hann(int window) {
  std::vector<float> w(window);
  for (int i = 0; i < window; ++i) w[i] = static_cast<float>(0.5 - 0.5 * std::cos(2 * M_PI * i / window));
  return w;
}

}  // namespace

std::vector<std::vector<float>> MelFilterbank(const LogMelOptions& o) {
  CheckOptions(o);
  const int bins = o.n_fft / 2 + 1;
  const double low = HzToMel(o.min_hz), high = HzToMel(o.max_hz);
  std::vector<double> edges(o.mels + 2);  // in Hz
  for (int m = 0; m < o.mels + 2; ++m) edges[m] = MelToHz(low + (high - low) * m / (o.mels + 1));
  std::vector<std::vector<float>> bank(o.mels, std::vector<float>(bins, 0.f));
  for (int m = 0; m < o.mels; ++m) {
    for (int k = 0; k < bins; ++k) {
      const double hz = static_cast<double>(k) * o.sample_rate / o.n_fft;
      const double up = (hz - edges[m]) / (edges[m + 1] - edges[m]);
      const double down = (edges[m + 2] - hz) / (edges[m + 2] - edges[m + 1]);
      bank[m][k] = static_cast<float>(std::max(0.0, std::min(up, down)));
    }
  }
  return bank;
}

std::vector<float> FramePowerSpectrum(const std::vector<float>& samples, int64_t start, const LogMelOptions& options) {
  CheckOptions(options);
  CHECK_EQ(start % options.hop, 0) << "FramePowerSpectrum: frames start at multiples of hop";
  std::vector<float> out(options.n_fft / 2 + 1);
  PowerSpectra(samples, start / options.hop, start / options.hop + 1, options, Hann(options.window), out.data());
  return out;
}

Tensor LogMel(const std::vector<float>& samples, const LogMelOptions& o) {
  CheckOptions(o);
  const int bins = o.n_fft / 2 + 1;
  const int64_t frames = std::max<int64_t>(1, (static_cast<int64_t>(samples.size()) + o.hop - 1) / o.hop);
  std::vector<float> power(frames * bins);
  PowerSpectra(samples, 0, frames, o, Hann(o.window), power.data());
  const std::vector<std::vector<float>> bank = MelFilterbank(o);
  Tensor out = Tensor::Empty({frames, o.mels});
  float* y = out.data<float>();
  for (int64_t f = 0; f < frames; ++f) {
    const float* p = power.data() + f * bins;
    for (int m = 0; m < o.mels; ++m) {
      double sum = 0;
      for (int k = 0; k < bins; ++k) sum += bank[m][k] * p[k];
      y[f * o.mels + m] = static_cast<float>(std::log(sum + 1e-6));
    }
  }
  return out;
}

}  // namespace onemodel::data
