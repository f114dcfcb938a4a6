#include "core/host_allocator.h"

#include <malloc.h>
#include <sys/mman.h>

#include <cstdlib>

#include "glog/logging.h"

namespace onemodel {
namespace {

constexpr size_t kAlignment = 64;
constexpr size_t kHugePage = size_t{2} << 20;

// By default glibc maps a block fresh from the kernel when it is larger than any mapped block freed so far (from
// 128 KiB; always above 32 MiB) and unmaps it on free, so each such block costs page faults and the kernel's
// zeroing of every page (`perf`: 18% of a speech step; a speech step's front end holds blocks of 30-150 MiB). With
// M_MMAP_MAX 0 every block comes from the heap, where a freed block is split and merged for later sizes and its
// pages stay mapped (trimmed only past 1 GiB of free top). Tensors free straight to glibc: an earlier cache of
// freed blocks keyed by size, on top of it, held up to 2 GiB of blocks no later size fitted and fragmented the heap
// around them (steps 1-400 of the default config: 62-73 s, system time 18-21 s, 5.5 GB resident with it; 46-55 s,
// 3-5 s, 2.2 GB without; over 1,600 steps the times were inside the machine's noise, 2.3 against 5.9 GB). Set
// before the first tensor is allocated. Advice only: another allocator (or a failed call) leaves the defaults.
bool KeepFreedMemoryMapped() {
  ::mallopt(M_MMAP_MAX, 0);
  ::mallopt(M_TRIM_THRESHOLD, 1 << 30);
  return true;
}

}  // namespace

void* HostAlloc(size_t bytes) {
  static const bool configured = KeepFreedMemoryMapped();
  (void)configured;
  // Large blocks on 2 MiB boundaries, backed by transparent huge pages where the kernel allows it (THP
  // "madvise" mode is the common default): fewer TLB misses in GEMMs and in MPI's page-by-page copies.
  const bool huge = bytes >= kHugePage;
  const size_t size = bytes == 0 ? kAlignment : (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(huge ? kHugePage : kAlignment, size);
  CHECK(p != nullptr) << "out of host memory allocating " << bytes << " bytes";
  if (huge) ::madvise(p, size, MADV_HUGEPAGE);  // advice only: failure changes nothing
  return p;
}

void HostFree(void* ptr) { std::free(ptr); }

}  // namespace onemodel
