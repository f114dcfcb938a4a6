// Host-to-device copies that queue like kernels. cudaMemcpy from pageable host memory first waits for all work
// queued on the device, so every upload of an index list, mask or batch was a host synchronization: the host
// stopped queuing while the device drained. Here the bytes go into a pinned staging block and
// cudaMemcpyAsync puts the copy on the default stream, ordered before the kernels queued after it; a block is
// reused once the event recorded after its copy has completed. Included by backend.cc only.
#ifndef ONEMODEL_CORE_CUDA_HOST_UPLOADS_H_
#define ONEMODEL_CORE_CUDA_HOST_UPLOADS_H_

#include <cuda_runtime.h>

#include <atomic>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>

namespace onemodel::cuda {

class HostUploads {
 public:
  HostUploads() = default;
  HostUploads(const HostUploads&) = delete;
  HostUploads& operator=(const HostUploads&) = delete;

  // Copies `bytes` from host memory at `src` to device memory at `dst`. Returns false, copying nothing, for a
  // copy larger than a staging block may be (the caller copies it synchronously).
  bool Upload(void* dst, const void* src, size_t bytes);
  // Uploads staged so far (a count for benchmarks).
  int64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  struct Block {
    void* ptr = nullptr;
    size_t size = 0;
    cudaEvent_t done = nullptr;
  };
  Block Take(size_t size);
  void Reclaim(bool wait_for_oldest);

  // Staging is bounded: a copy bigger than kMaxBlock goes synchronously, and past kMaxHeld pinned bytes an upload
  // waits for the oldest staged copy instead of pinning more host memory.
  static constexpr size_t kMaxBlock = size_t{64} << 20, kMaxHeld = size_t{256} << 20;
  std::mutex mu_;
  std::multimap<size_t, Block> free_;  // by size
  std::deque<Block> in_flight_;        // in the order their copies were queued (and so complete)
  size_t held_ = 0;
  std::atomic<int64_t> count_{0};
};

}  // namespace onemodel::cuda

#endif  // ONEMODEL_CORE_CUDA_HOST_UPLOADS_H_
