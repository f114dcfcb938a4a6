// The CUDA implementation of core's CudaBackend: memory, copies and kernel launches.
// Launches go to the default stream; copies to the host synchronize (the one place a count or a value
// must come back). A stream-ordered caching allocator replaces cudaMalloc in the CUDA backend issue.
#include <cuda_runtime.h>

#include "core/cuda/kernels.h"
#include "core/cuda_backend.h"
#include "glog/logging.h"

namespace onemodel::cuda {
namespace {

#define OM_CUDA_CHECK(expr)                                                                   \
  do {                                                                                        \
    const cudaError_t err = (expr);                                                           \
    CHECK(err == cudaSuccess) << #expr << ": " << cudaGetErrorString(err);                    \
  } while (0)

class Backend : public CudaBackend {
 public:
  bool DeviceAvailable(std::string* why) override {
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
      *why = cudaGetErrorString(err);
      return false;
    }
    if (count == 0) {
      *why = "no CUDA device";
      return false;
    }
    return true;
  }
  void* Alloc(size_t bytes, int device) override {
    OM_CUDA_CHECK(cudaSetDevice(device));
    void* p = nullptr;
    OM_CUDA_CHECK(cudaMalloc(&p, bytes == 0 ? 1 : bytes));
    return p;
  }
  void Free(void* ptr, int) override { OM_CUDA_CHECK(cudaFree(ptr)); }
  void Copy(void* dst, bool dst_on_device, const void* src, bool src_on_device, size_t bytes) override {
    const cudaMemcpyKind kind = dst_on_device ? (src_on_device ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                                              : (src_on_device ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
    OM_CUDA_CHECK(cudaMemcpy(dst, src, bytes, kind));
  }
  void Zero(void* ptr, size_t bytes) override { OM_CUDA_CHECK(cudaMemset(ptr, 0, bytes)); }
  void Synchronize() override { OM_CUDA_CHECK(cudaDeviceSynchronize()); }
  void UnaryForward(UnaryKind kind, const float* x, float* y, int64_t n) override {
    LaunchUnaryForward(kind, x, y, n);
    OM_CUDA_CHECK(cudaGetLastError());
  }
  void UnaryBackward(UnaryKind kind, const float* x, const float* y, const float* grad_y, float* grad_x,
                     int64_t n) override {
    LaunchUnaryBackward(kind, x, y, grad_y, grad_x, n);
    OM_CUDA_CHECK(cudaGetLastError());
  }
};

const bool registered = [] {
  static Backend backend;
  RegisterCudaBackend(&backend);
  return true;
}();

}  // namespace
}  // namespace onemodel::cuda
