// Vocal tract length perturbation on log-mel frames (after Jaitly & Hinton 2013): each training utterance's
// frequency axis is stretched or squeezed by a random factor, so that a voice's formants sit a little higher or
// lower than they did. A new speaker's vocal tract shifts every formant by such a factor; training on warped
// voices is what makes the held-out voices less new. Jaitly & Hinton warp the spectrum before the mel filters; this
// warps the mel bands themselves (band m reads band alpha * m, interpolated linearly), which needs no audio.
#ifndef ONEMODEL_DATA_MEL_WARP_H_
#define ONEMODEL_DATA_MEL_WARP_H_

#include <cstdint>

#include "core/rng.h"

namespace onemodel::data {

// Frames [length, mels] in place: band m becomes the linear interpolation of band alpha * m (the top band past
// the last one). alpha > 1 moves the spectrum down (a longer vocal tract), < 1 up.
void WarpMelBands(float alpha, int64_t length, int mels, float* frames);

// The warp factor of batch row `row`: uniform in [1 - max_warp, 1 + max_warp], from `key`'s stream.
float MelWarpFactor(float max_warp, const RngKey& key, uint64_t row);

}  // namespace onemodel::data

#endif  // ONEMODEL_DATA_MEL_WARP_H_
