// SpecAugment-style masking of log-mel frames in training (Park et al. 2019, without time warping): m_F
// frequency masks of up to F consecutive bands and m_T time masks of up to a fraction p of the utterance's
// frames, filled with 0, the per-utterance mean of normalized features. It makes the held-out voices look less
// like new data: no single band or moment can carry a transcript.
#ifndef ONEMODEL_DATA_SPEC_AUGMENT_H_
#define ONEMODEL_DATA_SPEC_AUGMENT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/rng.h"

namespace onemodel::data {

struct SpecAugmentPolicy {
  int freq_masks = 0;  // m_F
  int max_bands = 0;   // F
  int time_masks = 0;  // m_T
  float max_time_fraction = 0;  // p
  bool enabled() const { return (freq_masks > 0 && max_bands > 0) || (time_masks > 0 && max_time_fraction > 0); }
};

// "F=8,mF=2,p=0.05,mT=4" (any subset, in any order; "" or "none": no masking), or an error naming `field`.
absl::StatusOr<SpecAugmentPolicy> ParseSpecAugment(const std::string& text, const std::string& field);

// Masks frames [length, mels] in place. Mask widths and places are uniform draws from `key`'s stream, starting
// at `first_index` (each row of a batch its own range of 64 draws).
void ApplySpecAugment(const SpecAugmentPolicy& policy, const RngKey& key, uint64_t first_index, int64_t length,
                      int mels, float* frames);

}  // namespace onemodel::data

#endif  // ONEMODEL_DATA_SPEC_AUGMENT_H_
