#include "core/host_allocator.h"

#include <malloc.h>
#include <sys/mman.h>

#include <cstdlib>
#include <iterator>
#include <map>
#include <mutex>

#include "glog/logging.h"

namespace onemodel {
namespace {

constexpr size_t kAlignment = 64;
constexpr size_t kCacheFrom = 1 << 16;         // blocks of at least 64 KiB are cached
constexpr size_t kSmallRound = 1 << 12;        // ... with sizes rounded up to 4 KiB below 1 MiB
constexpr size_t kLargeFrom = 1 << 20;
constexpr size_t kPageRound = 1 << 16;         // ... and to 64 KiB above
constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kMaxCachedBytes = size_t{2} << 30;  // never hold more than 2 GiB idle

struct Cache {
  std::mutex mu;
  std::multimap<size_t, void*> free_blocks;  // rounded size -> block
  HostAllocatorStats stats;
};

// Blocks the cache misses on or turns away go to glibc. By default glibc maps a block fresh from the kernel when it
// is larger than any mapped block freed so far (from 128 KiB; up to 32 MiB) and unmaps it on free, so each such
// block costs page faults and the kernel's zeroing of every page on first touch (18% of a speech step's time,
// `perf`); the lengths of speech and text batches change every step, so their sizes rarely repeat for the cache.
// Kept in glibc's heap instead (mapped only above 32 MiB, the most glibc allows; trimmed only past 1 GiB of free
// top), a freed block is split and merged for later sizes and its pages stay mapped: a speech step's system time
// fell by a quarter. Set on the first cached-size allocation, before any training step. Advice only: another
// allocator (or a failed call) leaves the defaults.
void KeepFreedMemoryMapped() {
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

Cache& GetCache() {
  // Never destroyed: tensors may be freed during static destruction.
  static Cache* cache = [] {
    KeepFreedMemoryMapped();
    return new Cache;
  }();
  return *cache;
}

size_t Rounded(size_t bytes) {
  if (bytes < kCacheFrom) return ((bytes + kAlignment - 1) / kAlignment) * kAlignment;
  const size_t round = bytes < kLargeFrom ? kSmallRound : kPageRound;
  return ((bytes + round - 1) / round) * round;
}

void* SystemAlloc(size_t rounded) {
  // Large blocks on 2 MiB boundaries, backed by transparent huge pages where the kernel allows it (THP
  // "madvise" mode is the common default): fewer TLB misses in GEMMs and in MPI's page-by-page copies.
  const bool huge = rounded >= kHugePage;
  void* p = std::aligned_alloc(huge ? kHugePage : kAlignment, rounded == 0 ? kAlignment : rounded);
  CHECK(p != nullptr) << "out of host memory allocating " << rounded << " bytes";
  if (huge) ::madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure changes nothing
  return p;
}

}  // namespace

void* HostAlloc(size_t bytes) {
  const size_t rounded = Rounded(bytes);
  if (rounded < kCacheFrom) return SystemAlloc(rounded);
  Cache& cache = GetCache();
  {
    std::lock_guard<std::mutex> lock(cache.mu);
    // The smallest cached block that fits, if it wastes at most a quarter: variable-length batches and
    // all-to-all payloads change sizes every step, and a fresh block pays a page fault per 4 KiB on first touch.
    // Among blocks of that size the most recently freed: its lines are the likeliest to be in cache still.
    auto it = cache.free_blocks.lower_bound(rounded);
    if (it != cache.free_blocks.end() && it->first <= rounded + rounded / 4) {
      it = std::prev(cache.free_blocks.upper_bound(it->first));
      void* p = it->second;
      cache.stats.cached_bytes -= it->first;
      cache.free_blocks.erase(it);
      ++cache.stats.hits;
      return p;
    }
    ++cache.stats.misses;
  }
  return SystemAlloc(rounded);
}

void HostFree(void* ptr, size_t bytes) {
  const size_t rounded = Rounded(bytes);
  if (rounded >= kCacheFrom) {
    Cache& cache = GetCache();
    std::lock_guard<std::mutex> lock(cache.mu);
    if (cache.stats.cached_bytes + rounded <= kMaxCachedBytes) {
      cache.free_blocks.emplace(rounded, ptr);
      cache.stats.cached_bytes += rounded;
      return;
    }
  }
  std::free(ptr);
}

HostAllocatorStats GetHostAllocatorStats() {
  Cache& cache = GetCache();
  std::lock_guard<std::mutex> lock(cache.mu);
  return cache.stats;
}

void ReleaseHostCache() {
  Cache& cache = GetCache();
  std::lock_guard<std::mutex> lock(cache.mu);
  for (auto& [_, p] : cache.free_blocks) std::free(p);
  cache.free_blocks.clear();
  cache.stats.cached_bytes = 0;
  ::malloc_trim(0);  // glibc keeps freed blocks (KeepFreedMemoryMapped): give them back too
}

}  // namespace onemodel
