#include "core/host_allocator.h"

#include <malloc.h>

#include <cstdint>
#include <cstring>

#include "core/tensor.h"
#include "gtest/gtest.h"

namespace onemodel {
namespace {

TEST(HostAllocatorTest, AlignsSmallBlocksTo64BytesAndLargeOnesToHugePages) {
  for (size_t bytes : {size_t{0}, size_t{1}, size_t{1000}, size_t{3} << 20}) {
    void* p = HostAlloc(bytes);
    ASSERT_NE(p, nullptr);
    const uintptr_t alignment = bytes >= (size_t{2} << 20) ? (size_t{2} << 20) : 64;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % alignment, 0u) << bytes << " bytes";
    std::memset(p, 1, bytes);
    HostFree(p);
  }
}

// A block over glibc's largest mmap threshold (32 MiB) comes from the heap, and once freed its pages stay there
// for the next block: glibc's default would map it fresh from the kernel and unmap it on free.
TEST(HostAllocatorTest, LargeBlocksComeFromTheHeapAndStayMappedWhenFreed) {
  HostFree(HostAlloc(1));  // configures glibc, as the first tensor does
  constexpr size_t kBig = size_t{96} << 20;
  const size_t mapped_before = mallinfo2().hblkhd;
  void* big = HostAlloc(kBig);
  std::memset(big, 1, kBig);
  EXPECT_EQ(mallinfo2().hblkhd, mapped_before) << "the block was mapped on its own";
  HostFree(big);
  EXPECT_GE(mallinfo2().fordblks, kBig) << "the freed block left the heap";
  const size_t heap = mallinfo2().arena;
  HostFree(HostAlloc(kBig - 4096));
  EXPECT_EQ(mallinfo2().arena, heap) << "a block of a similar size grew the heap instead of reusing the freed one";
}

TEST(HostAllocatorTest, TensorsRecycleTheirStorage) {
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
