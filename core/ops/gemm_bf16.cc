#include "core/ops/gemm_bf16.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "glog/logging.h"

// The build may target CPUs without AVX-512 (--config=portable): only the functions that use its instructions
// are compiled for it, and they run only where CpuBF16GemmAvailable() says the CPU has them.
#define ONEMODEL_AVX512_BF16 __attribute__((target("avx512f,avx512bw,avx512bf16")))

namespace onemodel::ops {
namespace {

// Register tile: kMR rows x kNR columns of C in 24 zmm accumulators, with two B vectors and a broadcast of A.
constexpr int kMR = 12;
constexpr int kNR = 32;
// Cache blocking: a B micro-panel (kKC x kNR bf16, 16 KiB) stays in L1 while A's panels stream past it from L2
// (at most kMaxMC x kKC bf16); a B block of kKC x kNC (2 MiB) stays in L3.
constexpr int64_t kKC = 256;
constexpr int64_t kMaxMC = 240;
constexpr int64_t kNC = 4096;

// op(X) seen as `rows` x k: element (r, kk) is data[r * row_stride + kk * k_stride]. Dense operands have one
// of the two strides equal to 1.
struct Operand {
  const float* data;
  int64_t row_stride, k_stride;
};

__mmask16 FirstLanes(int64_t count) {
  return count >= 16 ? 0xFFFF : count <= 0 ? 0 : static_cast<__mmask16>((1u << count) - 1);
}

// Where a packed panel keeps the pair of its row w and k pair p: dword p * pair_stride + w * row_stride.
// Pair-major panels hold a pair's W rows side by side (B's 32 columns are one vector load); row-major panels
// hold each row's pairs side by side at a fixed stride of kKC / 2 pairs (the kernel's broadcast of a row's
// pair is still one instruction with a constant offset). A is packed row-major when its k runs along memory
// (the rounding writes whole vectors) and pair-major when its rows do; B always pair-major.
template <int kPairStride, int kRowStride>
struct Layout {
  static constexpr int64_t At(int64_t w, int64_t p) { return p * kPairStride + w * kRowStride; }
};
template <int W>
using PairMajor = Layout<W, 1>;
using RowMajor = Layout<1, kKC / 2>;

// Packs rows [r0, r0 + valid) of x (zeros for the rest of the W rows) over k in [k0, k0 + kc) as bf16 pairs:
// the pair (w, p) holds x(r0 + w, k0 + 2p) in its low half and x(r0 + w, k0 + 2p + 1) in its high half, the
// layout vdpbf16ps multiplies pairwise. An odd kc leaves the last pair's high half zero.
template <int W, typename L>
ONEMODEL_AVX512_BF16 void PackPanel(const Operand& x, int64_t r0, int64_t valid, int64_t k0, int64_t kc,
                                    uint32_t* dst) {
  const int64_t pairs = (kc + 1) / 2;
  if (x.k_stride == 1) {
    // k runs along memory: round 32 k of a row at once (in k order they are already 16 pairs).
    for (int w = 0; w < W; ++w) {
      if (w >= valid) {
        for (int64_t p = 0; p < pairs; ++p) dst[L::At(w, p)] = 0;
        continue;
      }
      const float* row = x.data + (r0 + w) * x.row_stride + k0;
      for (int64_t kk = 0; kk < kc; kk += 32) {
        const int64_t left = kc - kk;
        const __m512 low = _mm512_maskz_loadu_ps(FirstLanes(left), row + kk);
        const __m512 high = _mm512_maskz_loadu_ps(FirstLanes(left - 16), row + kk + 16);
        const __m512i sixteen = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(high, low));
        const int64_t count = std::min<int64_t>(16, (left + 1) / 2);
        if (L::At(0, 1) == 1) {
          _mm512_mask_storeu_epi32(dst + L::At(w, kk / 2), FirstLanes(count), sixteen);
        } else {
          alignas(64) uint32_t pair[16];
          _mm512_store_si512(pair, sixteen);
          for (int64_t q = 0; q < count; ++q) dst[L::At(w, kk / 2 + q)] = pair[q];
        }
      }
    }
    return;
  }
  // The panel's rows run along memory: round two k rows at once and interleave them into pairs.
  CHECK_EQ(L::At(1, 0), 1) << "GemmBF16: a row-major panel from rows along memory";
  alignas(64) static const uint16_t kInterleave[32] = {0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,  21, 6,  22, 7,  23,
                                                       8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  const __m512i interleave = _mm512_load_si512(kInterleave);
  for (int64_t p = 0; p < pairs; ++p) {
    const float* even = x.data + (k0 + 2 * p) * x.k_stride + r0 * x.row_stride;
    const bool has_odd = 2 * p + 1 < kc;
    for (int w = 0; w < W; w += 16) {
      const __mmask16 rows = FirstLanes(valid - w);
      const __m512 e = _mm512_maskz_loadu_ps(rows, even + w);
      const __m512 o = has_odd ? _mm512_maskz_loadu_ps(rows, even + x.k_stride + w) : _mm512_setzero_ps();
      const __m512i rounded = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(o, e));
      _mm512_mask_storeu_epi32(dst + L::At(w, p), FirstLanes(W - w), _mm512_permutexvar_epi16(interleave, rounded));
    }
  }
}

// C[0:mr, 0:nr] = (or +=, when accumulating over k blocks) the kMR x kNR tile of the packed panels' product;
// A's panel is laid out as LA, B's pair-major.
template <typename LA>
ONEMODEL_AVX512_BF16 void MicroKernel(int64_t pairs, const uint32_t* a, const uint32_t* b, float* c, int64_t ldc,
                                      int64_t mr, int64_t nr, bool accumulate) {
  // C's rows are far apart (a whole row of C between them): fetch the tile's lines while the products run.
  for (int64_t i = 0; i < mr; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
  }
  __m512 acc[kMR][2];
#pragma GCC unroll 12
  for (int i = 0; i < kMR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t p = 0; p < pairs; ++p) {
    const __m512bh b0 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(b + p * kNR));
    const __m512bh b1 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(b + p * kNR + 16));
#pragma GCC unroll 12
    for (int i = 0; i < kMR; ++i) {
      const __m512bh ai = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(a[LA::At(i, p)])));
      acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
      acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
    }
  }
  const __mmask16 left = FirstLanes(nr), right = FirstLanes(nr - 16);
#pragma GCC unroll 12
  for (int i = 0; i < kMR; ++i) {
    if (i >= mr) break;
    float* row = c + i * ldc;
    if (accumulate) {
      acc[i][0] = _mm512_add_ps(acc[i][0], _mm512_maskz_loadu_ps(left, row));
      acc[i][1] = _mm512_add_ps(acc[i][1], _mm512_maskz_loadu_ps(right, row + 16));
    }
    _mm512_mask_storeu_ps(row, left, acc[i][0]);
    _mm512_mask_storeu_ps(row + 16, right, acc[i][1]);
  }
}

// One thread's share of a (k block, n block): packs its rows [i0, i0 + rows) of A as LA, then runs every tile
// of them against the packed B block, adding to C's tiles unless this is the first k block.
template <typename LA>
void RowBlock(const Operand& a, int64_t i0, int64_t rows, int64_t k0, int64_t kc, const uint32_t* b_packed,
              int64_t nc, float* c, int64_t ldc, bool accumulate, std::vector<uint32_t>& a_packed) {
  const int64_t pairs = (kc + 1) / 2;
  const int64_t panels = (rows + kMR - 1) / kMR;
  constexpr int64_t kPanel = kMR * kKC / 2;  // dwords a packed A panel may take in either layout
  a_packed.resize(std::max<size_t>(a_packed.size(), panels * kPanel));
  for (int64_t ip = 0; ip < panels; ++ip) {
    PackPanel<kMR, LA>(a, i0 + ip * kMR, std::min<int64_t>(kMR, rows - ip * kMR), k0, kc, &a_packed[ip * kPanel]);
  }
  for (int64_t jp = 0; jp * kNR < nc; ++jp) {
    for (int64_t ip = 0; ip < panels; ++ip) {
      MicroKernel<LA>(pairs, &a_packed[ip * kPanel], b_packed + jp * pairs * kNR,
                      c + (i0 + ip * kMR) * ldc + jp * kNR, ldc, std::min<int64_t>(kMR, rows - ip * kMR),
                      std::min<int64_t>(kNR, nc - jp * kNR), accumulate);
    }
  }
}

// Dwords a packed B block of up to kKC x kNC takes for n columns.
size_t PackedBSize(int64_t n) { return (kKC / 2) * ((std::min(n, kNC) + kNR - 1) / kNR * kNR); }

// Panel jp (columns j0 + jp * kNR on) of the B block [k0, k0 + kc) x [j0, j0 + nc), packed where the kernel
// reads it.
void PackBPanel(const Operand& b, int64_t j0, int64_t nc, int64_t k0, int64_t kc, int64_t jp, uint32_t* packed) {
  PackPanel<kNR, PairMajor<kNR>>(b, j0 + jp * kNR, std::min<int64_t>(kNR, nc - jp * kNR), k0, kc,
                                 packed + jp * ((kc + 1) / 2) * kNR);
}

void RowBlockAnyLayout(const Operand& a, int64_t i0, int64_t rows, int64_t k0, int64_t kc, const uint32_t* b_packed,
                       int64_t nc, float* c, int64_t ldc, bool accumulate, std::vector<uint32_t>& a_packed) {
  if (a.k_stride == 1) {
    RowBlock<RowMajor>(a, i0, rows, k0, kc, b_packed, nc, c, ldc, accumulate, a_packed);
  } else {
    RowBlock<PairMajor<kMR>>(a, i0, rows, k0, kc, b_packed, nc, c, ldc, accumulate, a_packed);
  }
}

// C = op(A)[:, k_begin:k_end] op(B)[k_begin:k_end, :] on the calling thread alone (zeros for an empty range).
void SerialGemm(const Operand& a, const Operand& b, int64_t m, int64_t n, int64_t k_begin, int64_t k_end, float* c,
                int64_t ldc) {
  if (k_end <= k_begin) {
    for (int64_t i = 0; i < m; ++i) std::fill_n(c + i * ldc, n, 0.f);
    return;
  }
  thread_local std::vector<uint32_t> a_packed, b_packed;
  b_packed.resize(std::max(b_packed.size(), PackedBSize(n)));
  for (int64_t j0 = 0; j0 < n; j0 += kNC) {
    const int64_t nc = std::min(kNC, n - j0);
    for (int64_t k0 = k_begin; k0 < k_end; k0 += kKC) {
      const int64_t kc = std::min(kKC, k_end - k0);
      for (int64_t jp = 0; jp < (nc + kNR - 1) / kNR; ++jp) PackBPanel(b, j0, nc, k0, kc, jp, b_packed.data());
      for (int64_t i0 = 0; i0 < m; i0 += kMaxMC) {
        RowBlockAnyLayout(a, i0, std::min(kMaxMC, m - i0), k0, kc, b_packed.data(), nc, c + j0, ldc, k0 > k_begin,
                          a_packed);
      }
    }
  }
}

// Few rows and a long k (a weight gradient, k = the batch's tokens): split over rows, each k block would pack B
// and wait for every thread twice while its own rows take microseconds. k is cut instead into shares — all rows,
// their own packing, no waiting — each into its own copy of C, the copies added in share order. How many shares
// is a function of the shape alone (even, so two threads get equal work), never of the threads: the same numbers
// at any thread count, inside a parallel region too. 1: no split.
int64_t KShares(int64_t m, int64_t k) {
  if (m > kMaxMC || k < 4 * kKC) return 1;
  return k < 32 * kKC ? 2 : k < 128 * kKC ? 4 : 8;
}

void KSplitGemm(const Operand& a, const Operand& b, int64_t m, int64_t n, int64_t k, int64_t shares, int threads,
                float* c) {
  const int64_t length = ((k + shares - 1) / shares + 1) / 2 * 2;  // shares start on a k pair (not required)
  const std::unique_ptr<float[]> copies(new float[(shares - 1) * m * n]);
#pragma omp parallel if (threads > 1) num_threads(threads)
  {
#pragma omp for schedule(static)
    for (int64_t share = 0; share < shares; ++share) {
      const int64_t k_begin = std::min(k, share * length);
      const int64_t k_end = share == shares - 1 ? k : std::min(k, k_begin + length);
      SerialGemm(a, b, m, n, k_begin, k_end, share == 0 ? c : copies.get() + (share - 1) * m * n, n);
    }
#pragma omp for schedule(static)
    for (int64_t i = 0; i < m * n; ++i) {
      for (int64_t share = 1; share < shares; ++share) c[i] += copies[(share - 1) * m * n + i];
    }
  }
}

}  // namespace

bool CpuBF16GemmAvailable() {
  static const bool available = [] {
    const char* mode = std::getenv("ONEMODEL_BF16_GEMM");
    if (mode != nullptr && std::strcmp(mode, "emulate") == 0) return false;
    CHECK(mode == nullptr || *mode == '\0' || std::strcmp(mode, "native") == 0)
        << "ONEMODEL_BF16_GEMM: '" << mode << "' is neither 'native' nor 'emulate'";
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512bf16");
  }();
  return available;
}

void GemmBF16(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, const float* b,
              float* c) {
  CHECK(CpuBF16GemmAvailable()) << "GemmBF16: this CPU lacks AVX512-BF16 (or ONEMODEL_BF16_GEMM=emulate is set)";
  if (m == 0 || n == 0) return;
  if (k == 0) {
    std::fill_n(c, m * n, 0.f);
    return;
  }
  const Operand op_a{a, trans_a ? 1 : k, trans_a ? m : 1};
  const Operand op_b{b, trans_b ? k : 1, trans_b ? 1 : n};  // B's rows here are C's columns
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const int64_t shares = KShares(m, k);
  if (shares > 1) return KSplitGemm(op_a, op_b, m, n, k, shares, threads, c);
  if (threads == 1) return SerialGemm(op_a, op_b, m, n, 0, k, c, n);
  // Rows split into blocks of whole panels, at least one per thread where there are panels enough and a
  // multiple of the thread count so that no thread runs one more block than the others.
  const int64_t m_panels = (m + kMR - 1) / kMR;
  int64_t blocks = std::max<int64_t>((m_panels * kMR + kMaxMC - 1) / kMaxMC, threads);
  blocks = std::min(m_panels, (blocks + threads - 1) / threads * threads);
  const int64_t block_rows = (m_panels + blocks - 1) / blocks * kMR;
  blocks = (m + block_rows - 1) / block_rows;
  // Both packing buffers persist per thread (OpenMP's pool keeps its threads): no allocation per product.
  thread_local std::vector<uint32_t> b_packed;
  b_packed.resize(std::max(b_packed.size(), PackedBSize(n)));
  uint32_t* bp = b_packed.data();
#pragma omp parallel num_threads(threads)
  {
    thread_local std::vector<uint32_t> a_packed;
    for (int64_t j0 = 0; j0 < n; j0 += kNC) {
      const int64_t nc = std::min(kNC, n - j0);
      for (int64_t k0 = 0; k0 < k; k0 += kKC) {
        const int64_t kc = std::min(kKC, k - k0);
#pragma omp for schedule(static)
        for (int64_t jp = 0; jp < (nc + kNR - 1) / kNR; ++jp) PackBPanel(op_b, j0, nc, k0, kc, jp, bp);
#pragma omp for schedule(static)
        for (int64_t block = 0; block < blocks; ++block) {
          const int64_t i0 = block * block_rows;
          RowBlockAnyLayout(op_a, i0, std::min(block_rows, m - i0), k0, kc, bp, nc, c + j0, n, k0 > 0, a_packed);
        }
      }
    }
  }
}

}  // namespace onemodel::ops
