#include "data/mel_warp.h"

#include <algorithm>
#include <vector>

namespace onemodel::data {

void WarpMelBands(float alpha, int64_t length, int mels, float* frames) {
  std::vector<int> low(mels), high(mels);
  std::vector<float> part(mels);
  for (int m = 0; m < mels; ++m) {
    const float source = std::min<float>(static_cast<float>(mels - 1), alpha * static_cast<float>(m));
    low[m] = static_cast<int>(source);
    high[m] = std::min(mels - 1, low[m] + 1);
    part[m] = source - static_cast<float>(low[m]);
  }
  std::vector<float> band(mels);
  for (int64_t t = 0; t < length; ++t) {
    float* frame = frames + t * mels;
    for (int m = 0; m < mels; ++m) band[m] = frame[low[m]] * (1 - part[m]) + frame[high[m]] * part[m];
    std::copy(band.begin(), band.end(), frame);
  }
}

float MelWarpFactor(float max_warp, const RngKey& key, uint64_t row) {
  return 1 + max_warp * (2 * static_cast<float>(UniformAt(key, row)) - 1);
}

}  // namespace onemodel::data
