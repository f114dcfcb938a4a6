// WAV files for the speech task (DESIGN §5): RIFF/WAVE with 16-bit PCM mono samples, and band-limited
// resampling (the real test recordings are 8 kHz, the model hears 16 kHz).
#ifndef ONEMODEL_DATA_WAV_H_
#define ONEMODEL_DATA_WAV_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace onemodel::data {

struct Audio {
  std::vector<float> samples;  // in [-1, 1)
  int sample_rate = 0;
};

// Reads `path`. Anything but a whole 16-bit PCM mono file — not RIFF/WAVE, a truncated header or data chunk, another
// sample format, width or channel count, no samples — is an error naming the file and what is wrong.
absl::StatusOr<Audio> ReadWav(const std::string& path);

// Writes 16-bit PCM mono (samples clipped to [-1, 1]).
absl::Status WriteWav(const std::string& path, const Audio& audio);

// Windowed-sinc resampling (Hann window, 16 zero crossings each side; the cut-off is the lower Nyquist rate).
std::vector<float> Resample(const std::vector<float>& samples, int from_rate, int to_rate);

}  // namespace onemodel::data

#endif  // ONEMODEL_DATA_WAV_H_
