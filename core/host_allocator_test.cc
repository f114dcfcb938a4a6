#include "core/host_allocator.h"

#include <cstdint>

#include "core/tensor.h"
#include "gtest/gtest.h"

namespace onemodel {
namespace {

TEST(HostAllocatorTest, LargeBlocksAreReusedSmallOnesAreNot) {
  ReleaseHostCache();
  void* big = HostAlloc(3 << 20);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(big) % 64, 0u);
  HostFree(big, 3 << 20);
  EXPECT_EQ(GetHostAllocatorStats().cached_bytes, size_t{3} << 20);
  const size_t hits = GetHostAllocatorStats().hits;
  void* again = HostAlloc((3 << 20) - 100);  // same rounded size
  EXPECT_EQ(again, big);
  EXPECT_EQ(GetHostAllocatorStats().hits, hits + 1);
  HostFree(again, (3 << 20) - 100);
  void* small = HostAlloc(1000);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small) % 64, 0u);
  HostFree(small, 1000);
  ReleaseHostCache();
  EXPECT_EQ(GetHostAllocatorStats().cached_bytes, 0u);
}

TEST(HostAllocatorTest, TensorsRecycleTheirStorage) {
  ReleaseHostCache();
  const void* first;
  {
    Tensor t = Tensor::Zeros({1024, 1024});
    first = t.raw_data();
  }
  Tensor u = Tensor::Empty({1024, 1024});
  EXPECT_EQ(u.raw_data(), first);
}

}  // namespace
}  // namespace onemodel
