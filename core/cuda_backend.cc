#include "core/cuda_backend.h"

#include <cstdio>

#include "glog/logging.h"

namespace onemodel {
namespace {
CudaBackend*& BackendSlot() {
  static CudaBackend* backend = nullptr;
  return backend;
}
}  // namespace

CudaBackend* GetCudaBackend() { return BackendSlot(); }

void RegisterCudaBackend(CudaBackend* backend) { BackendSlot() = backend; }

CudaBackend& RequireCudaBackend() {
  CudaBackend* backend = GetCudaBackend();
  CHECK(backend != nullptr) << "a CUDA tensor was used, but onemodel was built without CUDA "
                               "(build with --config=cuda)";
  return *backend;
}

CudaBackend* UsableCudaBackendOrSkip() {
  CudaBackend* backend = GetCudaBackend();
  std::string why = "built without --config=cuda";
  if (backend == nullptr || !backend->DeviceAvailable(&why)) {
    std::printf("SKIPPED: no CUDA device (%s)\n", why.c_str());
    return nullptr;
  }
  return backend;
}

}  // namespace onemodel
