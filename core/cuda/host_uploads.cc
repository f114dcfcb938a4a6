#include "core/cuda/host_uploads.h"

#include <cstring>

#include "glog/logging.h"

namespace onemodel::cuda {
namespace {

void CheckCuda(cudaError_t err, const char* what) {
  CHECK(err == cudaSuccess) << what << ": " << cudaGetErrorString(err);
}

// Powers of two from 4 KiB: uploads whose sizes move a little from step to step reuse the same blocks.
size_t BlockSize(size_t bytes) {
  size_t size = size_t{4} << 10;
  while (size < bytes) size *= 2;
  return size;
}

}  // namespace

bool HostUploads::Upload(void* dst, const void* src, size_t bytes) {
  if (bytes > kMaxBlock) return false;
  std::lock_guard<std::mutex> lock(mu_);
  Block block = Take(BlockSize(bytes));
  std::memcpy(block.ptr, src, bytes);
  CheckCuda(cudaMemcpyAsync(dst, block.ptr, bytes, cudaMemcpyHostToDevice, /*stream=*/0), "cudaMemcpyAsync");
  CheckCuda(cudaEventRecord(block.done, /*stream=*/0), "cudaEventRecord");
  in_flight_.push_back(block);
  ++count_;
  return true;
}

HostUploads::Block HostUploads::Take(size_t size) {
  Reclaim(/*wait_for_oldest=*/false);
  for (;;) {
    if (auto it = free_.find(size); it != free_.end()) {
      const Block block = it->second;
      free_.erase(it);
      return block;
    }
    if (held_ + size <= kMaxHeld || in_flight_.empty()) break;
    Reclaim(/*wait_for_oldest=*/true);
    // Free blocks of other sizes are given back to make room for this one.
    while (held_ + size > kMaxHeld && !free_.empty() && free_.find(size) == free_.end()) {
      const Block old = free_.begin()->second;
      free_.erase(free_.begin());
      CheckCuda(cudaFreeHost(old.ptr), "cudaFreeHost");
      CheckCuda(cudaEventDestroy(old.done), "cudaEventDestroy");
      held_ -= old.size;
    }
  }
  Block block;
  block.size = size;
  CheckCuda(cudaHostAlloc(&block.ptr, size, cudaHostAllocDefault), "cudaHostAlloc");
  CheckCuda(cudaEventCreateWithFlags(&block.done, cudaEventDisableTiming), "cudaEventCreateWithFlags");
  held_ += size;
  return block;
}

// Copies on one stream complete in order: blocks return to the free list from the oldest until one is still
// queued (or, with wait_for_oldest, after waiting for the oldest).
void HostUploads::Reclaim(bool wait_for_oldest) {
  if (wait_for_oldest && !in_flight_.empty()) {
    CheckCuda(cudaEventSynchronize(in_flight_.front().done), "cudaEventSynchronize");
  }
  while (!in_flight_.empty()) {
    const cudaError_t state = cudaEventQuery(in_flight_.front().done);
    if (state == cudaErrorNotReady) break;
    CheckCuda(state, "cudaEventQuery");
    free_.emplace(in_flight_.front().size, in_flight_.front());
    in_flight_.pop_front();
  }
}

}  // namespace onemodel::cuda
