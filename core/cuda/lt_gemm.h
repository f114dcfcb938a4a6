// GEMMs through cuBLASLt with the algorithm chosen once per size class. cublasGemmEx and cublasSgemm run
// cuBLAS's heuristic for every shape they have not seen before — on an H100, about 400 us of host time for a new
// row count against 15 us for a known one (moe_cuda_bench) — and an MoE layer's experts get new row counts every
// step, as a model gets new sequence lengths. Sizes are classed to within an eighth (exactly up to 64); the
// heuristic runs once per class, on the class's upper bound, so the algorithm a shape gets does not depend on the
// shapes seen before it. Included by backend.cc only.
#ifndef ONEMODEL_CORE_CUDA_LT_GEMM_H_
#define ONEMODEL_CORE_CUDA_LT_GEMM_H_

#include <cublasLt.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>

namespace onemodel::cuda {

class LtGemm {
 public:
  // A column-major product D = alpha op(A) op(B) + beta C with D = C, packed (lda = rows of A as stored), as cuBLAS
  // takes it; A and B of `ab_type` (CUDA_R_32F: exact f32, no TF32; CUDA_R_16BF: f32 accumulation), C in f32;
  // `batch` products strided apart.
  struct Problem {
    cublasOperation_t op_a, op_b;
    int64_t m, n, k;
    cudaDataType_t ab_type;
    int64_t batch, stride_a, stride_b, stride_c;
  };
  LtGemm() = default;
  LtGemm(const LtGemm&) = delete;
  LtGemm& operator=(const LtGemm&) = delete;

  // Queues the product on the default stream. False, queuing nothing, where cuBLASLt has no algorithm for it: the
  // caller runs the classic cuBLAS call instead.
  bool Run(const Problem& p, float alpha, const void* a, const void* b, float beta, float* c);
  // Products it declined so far.
  int64_t declined() const { return declined_.load(std::memory_order_relaxed); }

 private:
  // op_a, op_b, type, the m, n, k and batch-count classes, pointer alignment.
  using Key = std::tuple<int, int, int, int64_t, int64_t, int64_t, int64_t, uint32_t>;
  std::optional<cublasLtMatmulAlgo_t> Choose(const Problem& rep, uint32_t alignment);

  static constexpr size_t kWorkspaceBytes = size_t{32} << 20;
  std::mutex mu_;
  cublasLtHandle_t handle_ = nullptr;
  void* workspace_ = nullptr;
  std::map<Key, std::optional<cublasLtMatmulAlgo_t>> algos_;
  std::atomic<int64_t> declined_{0};
};

}  // namespace onemodel::cuda

#endif  // ONEMODEL_CORE_CUDA_LT_GEMM_H_
