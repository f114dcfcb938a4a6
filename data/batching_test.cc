#include "data/batching.h"

#include <algorithm>
#include <set>

#include "gtest/gtest.h"

namespace onemodel::data {
namespace {

TEST(BatchingTest, ShuffleIsAPermutationFixedBySeedStreamAndEpoch) {
  const std::vector<int64_t> a = Shuffled(100, 1, 2, 3);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 100; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_EQ(a, Shuffled(100, 1, 2, 3));
  EXPECT_NE(a, Shuffled(100, 1, 2, 4));
  EXPECT_NE(a, Shuffled(100, 1, 5, 3));
  EXPECT_NE(a, Shuffled(100, 2, 2, 3));
}

TEST(BatchingTest, LengthBucketsCoverEveryExampleOnceWithLittlePadding) {
  std::vector<int64_t> lengths(1000);
  for (size_t i = 0; i < lengths.size(); ++i) lengths[i] = 1 + (i * 7919) % 40;
  const auto batches = LengthBucketedBatches(lengths, 16, 1, 1, 0, 10);
  std::set<int64_t> seen;
  int64_t padded = 0, real = 0;
  for (const auto& b : batches) {
    int64_t longest = 0;
    for (int64_t i : b) {
      EXPECT_TRUE(seen.insert(i).second) << i;
      longest = std::max(longest, lengths[i]);
      real += lengths[i];
    }
    padded += longest * static_cast<int64_t>(b.size());
  }
  EXPECT_EQ(seen.size(), 1000u);
  // Random batches of lengths 1..40 pad to ~2x; bucketed ones stay within a few percent.
  EXPECT_LT(static_cast<double>(padded) / real, 1.15);
  EXPECT_EQ(batches, LengthBucketedBatches(lengths, 16, 1, 1, 0, 10));
}

TEST(BatchingTest, ShuffledBatchesDropThePartialBatch) {
  const auto batches = ShuffledBatches(10, 3, 1, 1, 0);
  ASSERT_EQ(batches.size(), 3u);
  for (const auto& b : batches) EXPECT_EQ(b.size(), 3u);
}

TEST(BatchingTest, EpochBatchesWalkEpochsInOrderAndBack) {
  int made = 0;
  EpochBatches stream([&](uint32_t epoch) {
    ++made;
    return ShuffledBatches(10, 3, 1, 1, epoch);  // 3 batches an epoch
  });
  EXPECT_EQ(stream.At(0), ShuffledBatches(10, 3, 1, 1, 0)[0]);
  EXPECT_EQ(stream.At(2), ShuffledBatches(10, 3, 1, 1, 0)[2]);
  EXPECT_EQ(stream.At(4), ShuffledBatches(10, 3, 1, 1, 1)[1]);
  EXPECT_EQ(made, 2);
  EXPECT_EQ(stream.At(1), ShuffledBatches(10, 3, 1, 1, 0)[1]);  // going back rebuilds that epoch
}

}  // namespace
}  // namespace onemodel::data
