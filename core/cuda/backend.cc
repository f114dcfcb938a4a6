// The CUDA implementation of core's CudaBackend: a caching allocator, copies, cuBLAS GEMMs and kernel
// launches. Everything runs on the default stream; the only host synchronizations are copies to the host
// (a value or a count the host needs) and Synchronize().
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <map>
#include <mutex>
#include <vector>

#include "core/cuda/kernels.h"
#include "core/cuda_backend.h"
#include "glog/logging.h"

namespace onemodel::cuda {
namespace {

#define OM_CUDA_CHECK(expr)                                                \
  do {                                                                     \
    const cudaError_t err = (expr);                                        \
    CHECK(err == cudaSuccess) << #expr << ": " << cudaGetErrorString(err); \
  } while (0)

#define OM_CUBLAS_CHECK(expr)                                             \
  do {                                                                    \
    const cublasStatus_t status = (expr);                                 \
    CHECK(status == CUBLAS_STATUS_SUCCESS) << #expr << ": status " << status; \
  } while (0)

// Freed blocks are kept per (device, rounded size) and reused: cudaMalloc and cudaFree synchronize the
// device and cost far more than the kernels of a small op. On an allocation failure the cache is emptied
// and the allocation retried.
class CachingAllocator {
 public:
  void* Alloc(size_t bytes, int device) {
    const size_t size = Round(bytes);
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto& blocks = free_[{device, size}];
      if (!blocks.empty()) {
        void* p = blocks.back();
        blocks.pop_back();
        return p;
      }
    }
    OM_CUDA_CHECK(cudaSetDevice(device));
    void* p = nullptr;
    if (cudaMalloc(&p, size) != cudaSuccess) {
      (void)cudaGetLastError();
      EmptyCache();
      OM_CUDA_CHECK(cudaMalloc(&p, size));
    }
    std::lock_guard<std::mutex> lock(mu_);
    size_of_[p] = {device, size};
    return p;
  }
  void Free(void* p) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = size_of_.find(p);
    CHECK(it != size_of_.end()) << "CUDA free of a pointer this allocator did not give out";
    free_[it->second].push_back(p);
  }
  void EmptyCache() {
    std::lock_guard<std::mutex> lock(mu_);
    OM_CUDA_CHECK(cudaDeviceSynchronize());
    for (auto& [key, blocks] : free_) {
      for (void* p : blocks) {
        OM_CUDA_CHECK(cudaFree(p));
        size_of_.erase(p);
      }
      blocks.clear();
    }
  }

 private:
  static size_t Round(size_t bytes) {
    const size_t unit = bytes < (size_t{1} << 20) ? 512 : (size_t{1} << 20);
    return std::max<size_t>(unit, (bytes + unit - 1) / unit * unit);
  }
  std::mutex mu_;
  std::map<std::pair<int, size_t>, std::vector<void*>> free_;
  std::map<void*, std::pair<int, size_t>> size_of_;
};

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
  void* Alloc(size_t bytes, int device) override { return allocator_.Alloc(bytes, device); }
  void Free(void* ptr, int) override { allocator_.Free(ptr); }
  void Copy(void* dst, bool dst_on_device, const void* src, bool src_on_device, size_t bytes) override {
    const cudaMemcpyKind kind = dst_on_device ? (src_on_device ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                                              : (src_on_device ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
    OM_CUDA_CHECK(cudaMemcpy(dst, src, bytes, kind));
  }
  void Zero(void* ptr, size_t bytes) override { OM_CUDA_CHECK(cudaMemsetAsync(ptr, 0, bytes)); }
  void Synchronize() override { OM_CUDA_CHECK(cudaDeviceSynchronize()); }

  void UnaryForward(UnaryKind kind, const float* x, float* y, int64_t n) override {
    LaunchUnaryForward(kind, x, y, n);
    Check();
  }
  void UnaryBackward(UnaryKind kind, const float* x, const float* y, const float* grad_y, float* grad_x,
                     int64_t n) override {
    LaunchUnaryBackward(kind, x, y, grad_y, grad_x, n);
    Check();
  }
  void Binary(BinaryKind kind, Operand a, Operand b, float* out, int64_t n) override {
    if (n > 0) LaunchBinary(kind, a, b, out, n);
    Check();
  }
  void ScaleShift(const float* x, float* out, int64_t n, float scale, float shift) override {
    if (n > 0) LaunchScaleShift(x, out, n, scale, shift);
    Check();
  }
  void AddInPlace(float* dst, const float* src, int64_t n) override {
    if (n > 0) LaunchAddInPlace(dst, src, n);
    Check();
  }
  void ReduceAxis(const float* x, float* out, int64_t outer, int64_t n, int64_t inner, float scale) override {
    if (outer * inner > 0) LaunchReduceAxis(x, out, outer, n, inner, scale);
    Check();
  }
  void ExpandAxis(const float* g, float* out, int64_t outer, int64_t n, int64_t inner, float scale) override {
    if (outer * n * inner > 0) LaunchExpandAxis(g, out, outer, n, inner, scale);
    Check();
  }
  void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, const float* b,
            float beta, float* c) override {
    if (m == 0 || n == 0) return;
    // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands.
    OM_CUBLAS_CHECK(cublasSgemm(Handle(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                                static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), &alpha, b,
                                static_cast<int>(trans_b ? k : n), a, static_cast<int>(trans_a ? m : k), &beta, c,
                                static_cast<int>(n)));
  }
  void SoftmaxForward(const float* x, float* y, int64_t rows, int64_t n, bool log) override {
    LaunchSoftmaxForward(x, y, rows, n, log);
    Check();
  }
  void SoftmaxBackward(const float* y, const float* grad_y, float* grad_x, int64_t rows, int64_t n,
                       bool log) override {
    LaunchSoftmaxBackward(y, grad_y, grad_x, rows, n, log);
    Check();
  }
  void LayerNormForward(const float* x, const float* gamma, const float* beta, float* y, float* stats, int64_t rows,
                        int64_t d, float eps) override {
    LaunchLayerNormForward(x, gamma, beta, y, stats, rows, d, eps);
    Check();
  }
  void LayerNormBackward(const float* x, const float* gamma, const float* stats, const float* grad_y, float* grad_x,
                         float* grad_gamma, float* grad_beta, int64_t rows, int64_t d) override {
    LaunchLayerNormBackward(x, gamma, stats, grad_y, grad_x, grad_gamma, grad_beta, rows, d);
    Check();
  }
  void CrossEntropyForward(const float* logits, const int64_t* targets, float* log_probs, float* loss, int64_t rows,
                           int64_t v, float smoothing, int64_t ignore_index) override {
    LaunchCrossEntropyForward(logits, targets, log_probs, loss, rows, v, smoothing, ignore_index);
    Check();
  }
  void CrossEntropyBackward(const float* log_probs, const int64_t* targets, float* grad, int64_t rows, int64_t v,
                            float smoothing, int64_t ignore_index, float upstream) override {
    LaunchCrossEntropyBackward(log_probs, targets, grad, rows, v, smoothing, ignore_index, upstream);
    Check();
  }
  void Random(float* out, int64_t n, uint64_t seed, uint32_t step, uint16_t layer, uint16_t purpose, uint64_t offset,
              bool normal, float shift, float scale) override {
    LaunchRandom(out, n, seed, step, layer, purpose, offset, normal, shift, scale);
    Check();
  }
  void GatherRows(const float* x, const int64_t* index, float* out, int64_t m, int64_t width) override {
    LaunchGatherRows(x, index, out, m, width);
    Check();
  }
  void ScatterRows(const float* src, const float* weight, const int64_t* start, const int64_t* source, float* out,
                   int64_t rows, int64_t width) override {
    LaunchScatterRows(src, weight, start, source, out, rows, width);
    Check();
  }
  void GatherRowsScaled(const float* g, const int64_t* index, const float* weight, float* out, int64_t m,
                        int64_t width) override {
    LaunchGatherRowsScaled(g, index, weight, out, m, width);
    Check();
  }
  void GatherRowDots(const float* g, const int64_t* index, const float* src, float* dots, int64_t m,
                     int64_t width) override {
    LaunchGatherRowDots(g, index, src, dots, m, width);
    Check();
  }
  void TopK(const float* x, float* values, int64_t* indices, int64_t rows, int64_t n, int64_t k) override {
    LaunchTopK(x, values, indices, rows, n, k);
    Check();
  }
  void GatherLastDim(const float* x, const int64_t* index, float* out, int64_t rows, int64_t n, int64_t k) override {
    LaunchGatherLastDim(x, index, out, rows, n, k);
    Check();
  }
  void GatherLastDimBackward(const float* g, const int64_t* index, float* grad_x, int64_t rows, int64_t n,
                             int64_t k) override {
    LaunchGatherLastDimBackward(g, index, grad_x, rows, n, k);
    Check();
  }
  void TransposeLast2(const float* x, float* out, int64_t batch, int64_t r, int64_t c) override {
    LaunchTranspose(x, out, batch, r, c);
    Check();
  }
  void CopyRows2D(void* dst, size_t dst_pitch, const void* src, size_t src_pitch, size_t width, size_t rows) override {
    if (width * rows > 0) {
      OM_CUDA_CHECK(cudaMemcpy2DAsync(dst, dst_pitch, src, src_pitch, width, rows, cudaMemcpyDeviceToDevice));
    }
  }
  void SgdUpdate(float* w, const float* g, int64_t n, float lr, float weight_decay) override {
    if (n > 0) LaunchSgdUpdate(w, g, n, lr, weight_decay);
    Check();
  }

 private:
  static void Check() { OM_CUDA_CHECK(cudaGetLastError()); }
  cublasHandle_t Handle() {
    std::call_once(handle_once_, [this] {
      OM_CUBLAS_CHECK(cublasCreate(&handle_));
      // Exact f32 (no TF32), so results match the CPU within f32 rounding.
      OM_CUBLAS_CHECK(cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH));
    });
    return handle_;
  }
  CachingAllocator allocator_;
  std::once_flag handle_once_;
  cublasHandle_t handle_ = nullptr;
};

const bool registered = [] {
  static Backend backend;
  RegisterCudaBackend(&backend);
  return true;
}();

}  // namespace
}  // namespace onemodel::cuda
