#include "core/cuda/lt_gemm.h"

#include <cuda_runtime.h>

#include <algorithm>

#include "glog/logging.h"

namespace onemodel::cuda {
namespace {

void CheckLt(cublasStatus_t status, const char* what) {
  CHECK(status == CUBLAS_STATUS_SUCCESS) << what << ": cuBLAS status " << status;
}

// Exact up to 64; above, rounded up to a multiple of an eighth of its power of two (4097..4608 -> 4608).
int64_t SizeClass(int64_t x) {
  if (x <= 64) return x;
  int64_t power = 64;
  while (power * 2 <= x) power *= 2;
  const int64_t step = power / 8;
  return (x + step - 1) / step * step;
}

// The largest power of two (up to 256) that divides the address: the heuristic only offers algorithms that
// need no more alignment than this.
uint32_t Alignment(const void* p) {
  const auto address = reinterpret_cast<uintptr_t>(p);
  uint32_t alignment = 256;
  while (alignment > 1 && address % alignment != 0) alignment /= 2;
  return alignment;
}

// The layouts and operation of one problem, destroyed with it.
class Descriptors {
 public:
  explicit Descriptors(const LtGemm::Problem& p) {
    CheckLt(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
    CheckLt(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &p.op_a, sizeof(p.op_a)), "TRANSA");
    CheckLt(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &p.op_b, sizeof(p.op_b)), "TRANSB");
    const bool ta = p.op_a != CUBLAS_OP_N, tb = p.op_b != CUBLAS_OP_N;
    a = Layout(p.ab_type, ta ? p.k : p.m, ta ? p.m : p.k, p.batch, p.stride_a);
    b = Layout(p.ab_type, tb ? p.n : p.k, tb ? p.k : p.n, p.batch, p.stride_b);
    c = Layout(CUDA_R_32F, p.m, p.n, p.batch, p.stride_c);
  }
  ~Descriptors() {
    cublasLtMatrixLayoutDestroy(c);
    cublasLtMatrixLayoutDestroy(b);
    cublasLtMatrixLayoutDestroy(a);
    cublasLtMatmulDescDestroy(op);
  }
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;

  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;

 private:
  static cublasLtMatrixLayout_t Layout(cudaDataType_t type, int64_t rows, int64_t cols, int64_t batch,
                                       int64_t stride) {
    cublasLtMatrixLayout_t layout = nullptr;
    CheckLt(cublasLtMatrixLayoutCreate(&layout, type, rows, cols, std::max<int64_t>(rows, 1)),
            "cublasLtMatrixLayoutCreate");
    if (batch > 1) {
      const int32_t count = static_cast<int32_t>(batch);
      CheckLt(cublasLtMatrixLayoutSetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count)),
              "BATCH_COUNT");
      CheckLt(cublasLtMatrixLayoutSetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride,
                                               sizeof(stride)),
              "STRIDED_BATCH_OFFSET");
    }
    return layout;
  }
};

}  // namespace

std::optional<cublasLtMatmulAlgo_t> LtGemm::Choose(const Problem& rep, uint32_t alignment) {
  const Descriptors d(rep);
  cublasLtMatmulPreference_t preference = nullptr;
  CheckLt(cublasLtMatmulPreferenceCreate(&preference), "cublasLtMatmulPreferenceCreate");
  const uint64_t workspace = kWorkspaceBytes;
  CheckLt(cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace,
                                               sizeof(workspace)),
          "MAX_WORKSPACE_BYTES");
  for (auto attribute : {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                         CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES}) {
    CheckLt(cublasLtMatmulPreferenceSetAttribute(preference, attribute, &alignment, sizeof(alignment)), "ALIGNMENT");
  }
  cublasLtMatmulHeuristicResult_t result = {};
  int found = 0;
  const cublasStatus_t status =
      cublasLtMatmulAlgoGetHeuristic(handle_, d.op, d.a, d.b, d.c, d.c, preference, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(preference);
  if (status != CUBLAS_STATUS_SUCCESS || found == 0) return std::nullopt;
  return result.algo;
}

bool LtGemm::Run(const Problem& p, float alpha, const void* a, const void* b, float beta, float* c) {
  std::lock_guard<std::mutex> lock(mu_);
  if (handle_ == nullptr) {
    CheckLt(cublasLtCreate(&handle_), "cublasLtCreate");
    CHECK(cudaMalloc(&workspace_, kWorkspaceBytes) == cudaSuccess) << "cudaMalloc of the cuBLASLt workspace";
  }
  const uint32_t alignment = std::min({Alignment(a), Alignment(b), Alignment(c)});
  const Key key{p.op_a, p.op_b, p.ab_type, SizeClass(p.m), SizeClass(p.n), SizeClass(p.k), SizeClass(p.batch),
                alignment};
  auto it = algos_.find(key);
  if (it == algos_.end()) {
    // The class's upper bound, packed like the problem (strides are the packed sizes).
    Problem rep = p;
    rep.m = std::get<3>(key);
    rep.n = std::get<4>(key);
    rep.k = std::get<5>(key);
    rep.batch = std::get<6>(key);
    rep.stride_a = rep.m * rep.k;
    rep.stride_b = rep.k * rep.n;
    rep.stride_c = rep.m * rep.n;
    it = algos_.emplace(key, Choose(rep, alignment)).first;
  }
  const Descriptors d(p);
  if (it->second.has_value() &&
      cublasLtMatmul(handle_, d.op, &alpha, a, d.a, b, d.b, &beta, c, d.c, c, d.c, &*it->second, workspace_,
                     kWorkspaceBytes, /*stream=*/0) == CUBLAS_STATUS_SUCCESS) {
    return true;
  }
  ++declined_;
  return false;
}

}  // namespace onemodel::cuda
