// Matrix products through OpenBLAS (cuBLAS on CUDA), in f32 or bf16 mixed precision. Transposes are flags
// passed to the GEMM, never copies.
#ifndef ONEMODEL_CORE_OPS_MATMUL_H_
#define ONEMODEL_CORE_OPS_MATMUL_H_

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace onemodel::ops {

// The precision of matrix products. kBF16 is mixed precision: both operands rounded to bf16 (round to nearest
// even), the products accumulated and returned in f32 — on CUDA through the tensor cores, on the CPU through
// vdpbf16ps (core/ops/gemm_bf16.h) or, on CPUs without AVX512-BF16, an sgemm of rounded copies. Weights stay f32
// (the master copy) and gradients come back f32.
enum class MatmulPrecision { kF32, kBF16 };

// Sets the precision of the products that ops started on this thread use, until it is destroyed (then the
// previous one holds again). A product's backward uses the precision its forward was started with.
class MatmulPrecisionScope {
 public:
  explicit MatmulPrecisionScope(MatmulPrecision precision);
  ~MatmulPrecisionScope();
  MatmulPrecisionScope(const MatmulPrecisionScope&) = delete;
  MatmulPrecisionScope& operator=(const MatmulPrecisionScope&) = delete;

 private:
  MatmulPrecision previous_;
};
MatmulPrecision CurrentMatmulPrecision();

// C[M,N] = alpha * op(A) op(B) + beta * C, row-major, op(X) = X or X^T (raw sgemm, no autograd).
void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          const float* b, float beta, float* c);

// a [..., M, K] (or [K, M] with trans_a, 2-D only) times b [K, N] (or [N, K] with trans_b) -> [..., M, N].
// Leading dims of `a` fold into M, so a [B, T, D] activation times a [D, F] weight is one GEMM.
Tensor MatMul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

// a [B, M, K] times b [B, K, N], with per-operand transposes of the last two dims -> [B, M, N].
Tensor BatchedMatMul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

// Grouped GEMM (the MoE experts): x [A, K] holds groups of rows one after another, group g having
// group_sizes[g] rows (sizes add up to A; a group may be empty); w [G, K, N] (or [G, N, K] with trans_w).
// Rows of group g are multiplied by w[g] -> [A, N]. One op for all experts, no per-expert tensors.
Tensor GroupedMatMul(const Tensor& x, const Tensor& w, const std::vector<int64_t>& group_sizes, bool trans_w = false);

}  // namespace onemodel::ops

#endif  // ONEMODEL_CORE_OPS_MATMUL_H_
