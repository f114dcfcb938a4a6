#include "data/spec_augment.h"

#include <vector>

#include "gtest/gtest.h"

namespace onemodel::data {
namespace {

TEST(SpecAugmentTest, ParsesPolicyAndNamesFieldOnError) {
  absl::StatusOr<SpecAugmentPolicy> p = ParseSpecAugment("F=8,mF=2,p=0.05,mT=4", "tasks[0].options[spec_augment]");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->max_bands, 8);
  EXPECT_EQ(p->freq_masks, 2);
  EXPECT_EQ(p->time_masks, 4);
  EXPECT_FLOAT_EQ(p->max_time_fraction, 0.05f);
  EXPECT_TRUE(p->enabled());
  EXPECT_FALSE(ParseSpecAugment("none", "f")->enabled());
  EXPECT_FALSE(ParseSpecAugment("", "f")->enabled());
  for (const char* bad : {"F=8,mF", "F=x", "Q=1", "p=2", "mF=-1", "mF=20,mT=20"}) {
    absl::StatusOr<SpecAugmentPolicy> e = ParseSpecAugment(bad, "tasks[3].options[spec_augment]");
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_NE(std::string(e.status().message()).find("tasks[3].options[spec_augment]"), std::string::npos);
  }
}

// Which bands and which frames a policy zeroed entirely, and how many cells it zeroed in all.
struct Masked {
  std::vector<int> bands_fully_masked, frames_fully_masked;
  int cells = 0;
};

Masked Apply(const SpecAugmentPolicy& policy, uint64_t row, int64_t length, int mels) {
  std::vector<float> frames(length * mels, 1.f);
  ApplySpecAugment(policy, RngKey{7, 3, 1, 2}, row, length, mels, frames.data());
  Masked m;
  for (float v : frames) m.cells += v == 0.f;
  for (int b = 0; b < mels; ++b) {
    bool all = true;
    for (int64_t t = 0; t < length; ++t) all &= frames[t * mels + b] == 0.f;
    if (all) m.bands_fully_masked.push_back(b);
  }
  for (int64_t t = 0; t < length; ++t) {
    bool all = true;
    for (int b = 0; b < mels; ++b) all &= frames[t * mels + b] == 0.f;
    if (all) m.frames_fully_masked.push_back(static_cast<int>(t));
  }
  return m;
}

TEST(SpecAugmentTest, MasksWholeBandsAndFramesWithinBounds) {
  const int64_t length = 200;
  const int mels = 40;
  SpecAugmentPolicy freq{2, 8, 0, 0};
  SpecAugmentPolicy time{0, 0, 3, 0.05f};
  int some_band = 0, some_frame = 0;
  for (uint64_t row = 0; row < 50; ++row) {
    const Masked f = Apply(freq, row, length, mels);
    EXPECT_TRUE(f.frames_fully_masked.empty());
    EXPECT_LE(f.bands_fully_masked.size(), 16u);  // two masks of at most 8 bands
    EXPECT_EQ(f.cells, static_cast<int>(f.bands_fully_masked.size() * length));  // whole bands only
    some_band += !f.bands_fully_masked.empty();
    const Masked t = Apply(time, row, length, mels);
    EXPECT_TRUE(t.bands_fully_masked.empty());
    EXPECT_LE(t.frames_fully_masked.size(), 30u);  // three masks of at most 5% of 200 frames
    EXPECT_EQ(t.cells, static_cast<int>(t.frames_fully_masked.size() * mels));
    some_frame += !t.frames_fully_masked.empty();
  }
  EXPECT_GT(some_band, 40);
  EXPECT_GT(some_frame, 40);
}

TEST(SpecAugmentTest, RowsDrawTheirOwnMasksDeterministically) {
  const SpecAugmentPolicy p{2, 8, 2, 0.1f};
  EXPECT_EQ(Apply(p, 4, 100, 40).bands_fully_masked, Apply(p, 4, 100, 40).bands_fully_masked);
  int differ = 0;
  for (uint64_t row = 0; row < 10; ++row) {
    differ += Apply(p, row, 100, 40).bands_fully_masked != Apply(p, row + 1, 100, 40).bands_fully_masked;
  }
  EXPECT_GT(differ, 5);
}

TEST(SpecAugmentTest, DisabledPolicyLeavesFramesAlone) {
  EXPECT_EQ(Apply(SpecAugmentPolicy{}, 0, 50, 40).cells, 0);
}

}  // namespace
}  // namespace onemodel::data
