// The CPU's bf16 GEMM: both operands rounded to bf16 (round to nearest even) while they are packed, pairs of
// products accumulated in f32 by AVX512-BF16's vdpbf16ps — twice the multiply-adds per instruction of an f32
// FMA. Debian's OpenBLAS 0.3.21 exports no bf16 GEMM (cblas_sbgemm), so bf16 mixed precision on the CPU would
// otherwise run as an f32 sgemm of rounded copies.
#ifndef ONEMODEL_CORE_OPS_GEMM_BF16_H_
#define ONEMODEL_CORE_OPS_GEMM_BF16_H_

#include <cstdint>

namespace onemodel::ops {

// Whether GemmBF16 runs here: the CPU has AVX512F, AVX512BW and AVX512_BF16, and the environment does not set
// ONEMODEL_BF16_GEMM=emulate (which keeps bf16 mixed precision on the rounded-copy sgemm, to compare the two).
// Decided once per process.
bool CpuBF16GemmAvailable();

// C[M,N] = op(A) op(B), row-major and dense (A is [M,K], or [K,M] with trans_a; B is [K,N], or [N,K] with
// trans_b), computed from the operands rounded to bf16, accumulated and stored in f32. Like the instruction,
// it treats bf16 subnormals as zero. Threads over OpenMP; runs single-threaded inside a parallel region; the same
// numbers at any thread count.
// Requires CpuBF16GemmAvailable().
void GemmBF16(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, const float* b,
              float* c);

}  // namespace onemodel::ops

#endif  // ONEMODEL_CORE_OPS_GEMM_BF16_H_
