// Log-mel filterbank features of audio (DESIGN §5: the audio modality's input), with FFTW: Hann-windowed frames,
// the power spectrum of each, triangular filters evenly spaced on the mel scale (HTK: 2595 log10(1 + f / 700)),
// log(power + 1e-6). Frame f covers samples [f * hop, f * hop + window), zero-padded past the end.
#ifndef ONEMODEL_DATA_LOG_MEL_H_
#define ONEMODEL_DATA_LOG_MEL_H_

#include <vector>

#include "core/tensor.h"

namespace onemodel::data {

struct LogMelOptions {
  int sample_rate = 16000;
  int n_fft = 512;   // FFT size (>= window)
  int window = 400;  // 25 ms at 16 kHz
  int hop = 160;     // 10 ms
  int mels = 80;
  float min_hz = 20, max_hz = 7600;
};

// [frames, mels] f32 (frames = ceil(samples / hop), at least 1).
Tensor LogMel(const std::vector<float>& samples, const LogMelOptions& options = {});

// The pieces, for tests: the power spectrum (n_fft / 2 + 1 bins) of one Hann-windowed frame starting at `start`,
// and the filterbank [mels, n_fft / 2 + 1].
std::vector<float> FramePowerSpectrum(const std::vector<float>& samples, int64_t start, const LogMelOptions& options);
std::vector<std::vector<float>> MelFilterbank(const LogMelOptions& options);

}  // namespace onemodel::data

#endif  // ONEMODEL_DATA_LOG_MEL_H_
