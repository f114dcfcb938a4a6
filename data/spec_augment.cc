#include "data/spec_augment.h"

#include <algorithm>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace onemodel::data {
namespace {

constexpr int kDrawsPerRow = 64;  // 2 per mask: up to 32 masks

// Uniform integer in [0, n].
int64_t UpTo(const RngKey& key, uint64_t index, int64_t n) {
  return std::min<int64_t>(n, static_cast<int64_t>(UniformAt(key, index) * (n + 1)));
}

}  // namespace

absl::StatusOr<SpecAugmentPolicy> ParseSpecAugment(const std::string& text, const std::string& field) {
  SpecAugmentPolicy p;
  if (text.empty() || text == "none") return p;
  const auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": '", text, "': ", why, " (expected e.g. \"F=8,mF=2,p=0.05,mT=4\" or \"none\")"));
  };
  for (const absl::string_view part : absl::StrSplit(text, ',')) {
    const std::vector<std::string> kv = absl::StrSplit(part, '=');
    if (kv.size() != 2) return bad(absl::StrCat("'", part, "' is not KEY=VALUE"));
    int count = 0;
    float fraction = 0;
    if (kv[0] == "p") {
      if (!absl::SimpleAtof(kv[1], &fraction) || fraction < 0 || fraction > 1) return bad("p must be in [0, 1]");
      p.max_time_fraction = fraction;
      continue;
    }
    if (!absl::SimpleAtoi(kv[1], &count) || count < 0) return bad(absl::StrCat(kv[0], " must be an integer >= 0"));
    if (kv[0] == "F") {
      p.max_bands = count;
    } else if (kv[0] == "mF") {
      p.freq_masks = count;
    } else if (kv[0] == "mT") {
      p.time_masks = count;
    } else {
      return bad(absl::StrCat("unknown key '", kv[0], "'"));
    }
  }
  if (2 * (p.freq_masks + p.time_masks) > kDrawsPerRow) return bad("mF + mT must be at most 32");
  return p;
}

void ApplySpecAugment(const SpecAugmentPolicy& policy, const RngKey& key, uint64_t first_index, int64_t length,
                      int mels, float* frames) {
  uint64_t draw = first_index * kDrawsPerRow;
  for (int m = 0; m < policy.freq_masks; ++m, draw += 2) {
    const int64_t width = UpTo(key, draw, std::min(policy.max_bands, mels));
    const int64_t start = UpTo(key, draw + 1, mels - width);
    for (int64_t t = 0; t < length; ++t) std::fill_n(frames + t * mels + start, width, 0.f);
  }
  const int64_t max_frames = static_cast<int64_t>(policy.max_time_fraction * length);
  for (int m = 0; m < policy.time_masks; ++m, draw += 2) {
    const int64_t width = UpTo(key, draw, max_frames);
    const int64_t start = UpTo(key, draw + 1, length - width);
    std::fill_n(frames + start * mels, width * mels, 0.f);
  }
}

}  // namespace onemodel::data
