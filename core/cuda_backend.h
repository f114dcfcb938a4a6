// The seam between the CPU-only core and the CUDA code. core never includes CUDA headers; the CUDA
// library (//core/cuda, built only under --config=cuda) registers an implementation at start-up.
#ifndef ONEMODEL_CORE_CUDA_BACKEND_H_
#define ONEMODEL_CORE_CUDA_BACKEND_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/ops/unary_math.h"

namespace onemodel {

class CudaBackend {
 public:
  virtual ~CudaBackend() = default;
  // True when a usable device exists; otherwise false with the driver's reason in *why.
  virtual bool DeviceAvailable(std::string* why) = 0;
  virtual void* Alloc(size_t bytes, int device) = 0;
  virtual void Free(void* ptr, int device) = 0;
  // Copies between host and device or device and device; `*_on_device` says where each side lives.
  virtual void Copy(void* dst, bool dst_on_device, const void* src, bool src_on_device, size_t bytes) = 0;
  virtual void Zero(void* ptr, size_t bytes) = 0;
  // Waits for all queued device work (benchmarks and tests; training steps do not call it).
  virtual void Synchronize() = 0;

  // Kernels (same semantics as the CPU loops in core/ops; the formulas are shared in unary_math.h).
  virtual void UnaryForward(UnaryKind kind, const float* x, float* y, int64_t n) = 0;
  virtual void UnaryBackward(UnaryKind kind, const float* x, const float* y, const float* grad_y,
                             float* grad_x, int64_t n) = 0;
};

// Null when onemodel was built without --config=cuda.
CudaBackend* GetCudaBackend();
void RegisterCudaBackend(CudaBackend* backend);
// The backend, or a fatal error telling the user how to get one.
CudaBackend& RequireCudaBackend();

}  // namespace onemodel

#endif  // ONEMODEL_CORE_CUDA_BACKEND_H_
