// The CUDA implementation of core's CudaBackend: a caching allocator, copies, cuBLAS GEMMs and kernel
// launches. Everything runs on the default stream; the only host synchronizations are copies to the host
// (a value or a count the host needs), uploads too large to stage (HostUploads) and Synchronize().
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <vector>

#include "core/cuda/host_uploads.h"
#include "core/cuda/kernels.h"
#include "core/cuda/lt_gemm.h"
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

// Freed blocks are kept per device and reused: cudaMalloc and cudaFree synchronize the device and cost far more
// than the kernels of a small op. A request takes the smallest cached block that fits with at most a quarter to
// spare (twice the size under 1 MiB), so tensors whose sizes move a little from step to step (an MoE layer's
// kept rows) reuse last step's blocks instead of allocating anew. On an allocation failure the cache is emptied
// and the allocation retried.
class CachingAllocator {
 public:
  void* Alloc(size_t bytes, int device) {
    const size_t size = Round(bytes);
    const size_t limit = size < kLarge ? 2 * size : size + size / 4;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto& pool = free_[device];
      auto it = pool.lower_bound(size);
      if (it != pool.end() && it->first <= limit) {
        void* p = it->second;
        pool.erase(it);
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
    ++stats_.device_allocations;
    stats_.bytes_held += size;
    return p;
  }
  void Free(void* p) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = size_of_.find(p);
    CHECK(it != size_of_.end()) << "CUDA free of a pointer this allocator did not give out";
    free_[it->second.first].emplace(it->second.second, p);
  }
  void EmptyCache() {
    std::lock_guard<std::mutex> lock(mu_);
    OM_CUDA_CHECK(cudaDeviceSynchronize());
    for (auto& [device, pool] : free_) {
      for (const auto& [size, p] : pool) {
        OM_CUDA_CHECK(cudaFree(p));
        size_of_.erase(p);
        stats_.bytes_held -= size;
      }
      pool.clear();
    }
  }
  CudaBackend::MemoryStats Stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

 private:
  static constexpr size_t kLarge = size_t{1} << 20;
  static size_t Round(size_t bytes) {
    const size_t unit = bytes < kLarge ? 512 : kLarge;
    return std::max<size_t>(unit, (bytes + unit - 1) / unit * unit);
  }
  std::mutex mu_;
  std::map<int, std::multimap<size_t, void*>> free_;
  std::map<void*, std::pair<int, size_t>> size_of_;
  CudaBackend::MemoryStats stats_;
};

// A row-major product's sizes as cuBLAS (column-major) takes them.
struct GemmShape {
  GemmShape(bool trans_a, bool trans_b, int64_t m_, int64_t n_, int64_t k_)
      : op_a(trans_a ? CUBLAS_OP_T : CUBLAS_OP_N),
        op_b(trans_b ? CUBLAS_OP_T : CUBLAS_OP_N),
        m(static_cast<int>(m_)),
        n(static_cast<int>(n_)),
        k(static_cast<int>(k_)),
        lda(static_cast<int>(trans_a ? m_ : k_)),
        ldb(static_cast<int>(trans_b ? k_ : n_)) {}
  cublasOperation_t op_a, op_b;
  int m, n, k, lda, ldb;
};

// The same product as LtGemm takes it (operands swapped, column-major).
LtGemm::Problem LtProblem(const GemmShape& g, cudaDataType_t type, const CudaBackend::GemmBatch& batch) {
  return {g.op_b, g.op_a, g.n, g.m, g.k, type, batch.count, batch.stride_b, batch.stride_a, batch.stride_c};
}

class Backend : public CudaBackend {
 public:
  // Device scratch for one call's kernels. It goes back to the cache when the call returns: kernels queued later
  // on the same stream run after these, so a reuse cannot overtake them.
  class Scratch {
   public:
    Scratch(Backend& backend, size_t bytes) : backend_(backend) {
      if (bytes == 0) return;
      OM_CUDA_CHECK(cudaGetDevice(&device_));
      ptr_ = backend_.Alloc(bytes, device_);
    }
    ~Scratch() {
      if (ptr_ != nullptr) backend_.Free(ptr_, device_);
    }
    float* get() const { return static_cast<float*>(ptr_); }

   private:
    Backend& backend_;
    int device_ = 0;
    void* ptr_ = nullptr;
  };

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
    if (kind == cudaMemcpyDeviceToDevice) {
      OM_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, /*stream=*/0));
      return;
    }
    if (kind == cudaMemcpyHostToDevice && uploads_.Upload(dst, src, bytes)) return;
    const auto start = std::chrono::steady_clock::now();
    OM_CUDA_CHECK(cudaMemcpy(dst, src, bytes, kind));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::lock_guard<std::mutex> lock(copy_mu_);
    ++host_copies_;
    host_copy_seconds_ += seconds;
  }
  void Zero(void* ptr, size_t bytes) override { OM_CUDA_CHECK(cudaMemsetAsync(ptr, 0, bytes)); }
  void Synchronize() override { OM_CUDA_CHECK(cudaDeviceSynchronize()); }
  MemoryStats Memory() override {
    MemoryStats stats = allocator_.Stats();
    std::lock_guard<std::mutex> lock(copy_mu_);
    stats.host_copies = host_copies_;
    stats.host_copy_seconds = host_copy_seconds_;
    stats.host_uploads = uploads_.count();
    stats.device_calls = device_calls_.load(std::memory_order_relaxed);
    stats.classic_gemms = lt_.declined();
    return stats;
  }

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
  void BroadcastBinary(BinaryKind kind, const float* a, const float* b, float* out, const Strided& s) override {
    LaunchBroadcastBinary(kind, a, b, out, s);
    Check();
  }
  void SumOverBroadcast(const float* x, float* out, const Strided& s) override {
    LaunchSumOverBroadcast(x, out, s);
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
    if (outer * inner > 0) {
      const int slices = ReduceAxisSlices(outer, n, inner);
      Scratch partial(*this, sizeof(float) * outer * inner * slices);
      LaunchReduceAxis(x, out, outer, n, inner, scale, partial.get(), slices);
    }
    Check();
  }
  void ExpandAxis(const float* g, float* out, int64_t outer, int64_t n, int64_t inner, float scale) override {
    if (outer * n * inner > 0) LaunchExpandAxis(g, out, outer, n, inner, scale);
    Check();
  }
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: cuBLAS gets the operands swapped. cuBLASLt
  // first (LtGemm: no heuristic per new shape); the classic call where it has no algorithm, and for k = 0.
  void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, const float* b,
            float beta, float* c, const GemmBatch& batch) override {
    if (m == 0 || n == 0 || batch.count == 0) return;
    const GemmShape g(trans_a, trans_b, m, n, k);
    device_calls_.fetch_add(1, std::memory_order_relaxed);
    if (k > 0 && lt_.Run(LtProblem(g, CUDA_R_32F, batch), alpha, b, a, beta, c)) return;
    if (batch.count == 1) {
      OM_CUBLAS_CHECK(cublasSgemm(Handle(), g.op_b, g.op_a, g.n, g.m, g.k, &alpha, b, g.ldb, a, g.lda, &beta, c, g.n));
    } else {
      OM_CUBLAS_CHECK(cublasSgemmStridedBatched(Handle(), g.op_b, g.op_a, g.n, g.m, g.k, &alpha, b, g.ldb,
                                                batch.stride_b, a, g.lda, batch.stride_a, &beta, c, g.n,
                                                batch.stride_c, static_cast<int>(batch.count)));
    }
  }
  void GemmBF16(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const uint16_t* a,
                const uint16_t* b, float beta, float* c, const GemmBatch& batch) override {
    if (m == 0 || n == 0 || batch.count == 0) return;
    const GemmShape g(trans_a, trans_b, m, n, k);
    device_calls_.fetch_add(1, std::memory_order_relaxed);
    if (k > 0 && lt_.Run(LtProblem(g, CUDA_R_16BF, batch), alpha, b, a, beta, c)) return;
    if (batch.count == 1) {
      OM_CUBLAS_CHECK(cublasGemmEx(Handle(), g.op_b, g.op_a, g.n, g.m, g.k, &alpha, b, CUDA_R_16BF, g.ldb, a,
                                   CUDA_R_16BF, g.lda, &beta, c, CUDA_R_32F, g.n, CUBLAS_COMPUTE_32F,
                                   CUBLAS_GEMM_DEFAULT));
    } else {
      OM_CUBLAS_CHECK(cublasGemmStridedBatchedEx(Handle(), g.op_b, g.op_a, g.n, g.m, g.k, &alpha, b, CUDA_R_16BF,
                                                 g.ldb, batch.stride_b, a, CUDA_R_16BF, g.lda, batch.stride_a, &beta,
                                                 c, CUDA_R_32F, g.n, batch.stride_c, static_cast<int>(batch.count),
                                                 CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    }
  }
  void ToBF16(const float* x, uint16_t* out, int64_t n) override {
    if (n > 0) LaunchToBF16(x, out, n);
    Check();
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
  void AdamUpdate(float* w, const float* g, float* m, float* v, int64_t n, const AdamScalars& s) override {
    if (n > 0) LaunchAdamUpdate(w, g, m, v, n, s);
    Check();
  }
  void DropoutMask(float* out, int64_t n, uint64_t seed, uint32_t step, uint16_t layer, uint16_t purpose,
                   uint64_t offset, float p, float keep_scale) override {
    if (n > 0) LaunchDropoutMask(out, n, seed, step, layer, purpose, offset, p, keep_scale);
    Check();
  }
  void DistanceFinish(float* d, const float* xn, const float* wn, int64_t n, int64_t e) override {
    LaunchDistanceFinish(d, xn, wn, n, e);
    Check();
  }
  void DistanceGradScale(const float* g, const float* dist, float* s, int64_t count) override {
    LaunchDistanceGradScale(g, dist, s, count);
    Check();
  }
  void DepthwiseConvForward(const DepthwiseConvShape& s, const float* x, const float* weight, float* out) override {
    LaunchDepthwiseConvForward(s, x, weight, out);
    Check();
  }
  void DepthwiseConvBackward(const DepthwiseConvShape& s, const float* x, const float* weight, const float* grad_out,
                             float* grad_x, float* grad_weight) override {
    if (grad_x != nullptr) LaunchDepthwiseConvBackwardInput(s, weight, grad_out, grad_x);
    if (grad_weight != nullptr) {
      const int chunks = DepthwiseConvWeightChunks(s);
      Scratch partial(*this, sizeof(float) * chunks * s.kh * s.kw * s.c);
      LaunchDepthwiseConvBackwardWeight(s, x, grad_out, partial.get(), chunks, grad_weight);
    }
    Check();
  }
  void PoolForward(const PoolShape& s, bool max, const float* x, float* out, int64_t* argmax) override {
    LaunchPoolForward(s, max, x, out, argmax);
    Check();
  }
  void PoolBackward(const PoolShape& s, bool max, const int64_t* argmax, const float* grad_out,
                    float* grad_x) override {
    LaunchPoolBackward(s, max, argmax, grad_out, grad_x);
    Check();
  }
  void MaxAxis(const float* x, float* out, int64_t* argmax, int64_t outer, int64_t n, int64_t inner) override {
    LaunchMaxAxis(x, out, argmax, outer, n, inner);
    Check();
  }
  void MaxAxisBackward(const float* g, const int64_t* argmax, float* grad_x, int64_t outer, int64_t n,
                       int64_t inner) override {
    LaunchMaxAxisBackward(g, argmax, grad_x, outer, n, inner);
    Check();
  }

 private:
  // After each launch: its error, and the count of device calls.
  void Check() {
    OM_CUDA_CHECK(cudaGetLastError());
    device_calls_.fetch_add(1, std::memory_order_relaxed);
  }
  cublasHandle_t Handle() {
    std::call_once(handle_once_, [this] {
      OM_CUBLAS_CHECK(cublasCreate(&handle_));
      // Exact f32 (no TF32), so results match the CPU within f32 rounding.
      OM_CUBLAS_CHECK(cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH));
    });
    return handle_;
  }
  CachingAllocator allocator_;
  HostUploads uploads_;
  LtGemm lt_;
  std::atomic<int64_t> device_calls_{0};
  std::mutex copy_mu_;
  int64_t host_copies_ = 0;
  double host_copy_seconds_ = 0;
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
