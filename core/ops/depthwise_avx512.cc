#include "core/ops/depthwise_avx512.h"

#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "glog/logging.h"

// The build may target CPUs without AVX-512 (--config=portable): only the kernels are compiled for it, and they
// run only where DepthwiseAvx512Applies found the instructions.
#define ONEMODEL_AVX512 __attribute__((target("avx512f")))

namespace onemodel::ops {
namespace {

// A tap's source row (zeros where the row is padding) and its column shift: output column x reads
// x * stride + shift.
struct RowTap {
  const float* row;
  int64_t shift;
};

// Output columns [*lo, *hi) read a valid source column ([0, src_cols)) at every tap; the others check each tap.
template <int kTaps>
void InteriorColumns(const RowTap* taps, int64_t stride, int64_t src_cols, int64_t out_cols, int64_t* lo,
                     int64_t* hi) {
  const auto ceil_div = [stride](int64_t n) { return n <= 0 ? 0 : (n + stride - 1) / stride; };
  int64_t first = 0, end = out_cols;
  for (int t = 0; t < kTaps; ++t) {
    first = std::max(first, ceil_div(-taps[t].shift));
    end = std::min(end, ceil_div(src_cols - taps[t].shift));
  }
  *lo = std::min(first, out_cols);
  *hi = std::max(end, *lo);
}

// out[x] = the sum over taps t, in order, of row_t[x * stride + shift_t] * w_t (per channel) for x in
// [0, out_cols), as one chain of fused multiply-adds from zero; a source column outside [0, src_cols) adds nothing.
// Rows are [cols, c], the weights [kTaps, c].
template <int kTaps>
ONEMODEL_AVX512 void RowConv(const RowTap* taps, const float* weights, int64_t c, int64_t stride, int64_t src_cols,
                             int64_t out_cols, float* __restrict out) {
  int64_t lo, hi;
  InteriorColumns<kTaps>(taps, stride, src_cols, out_cols, &lo, &hi);
  const float* rows[kTaps];
  int64_t shifts[kTaps];
  for (int t = 0; t < kTaps; ++t) rows[t] = taps[t].row, shifts[t] = taps[t].shift;
  for (int64_t v = 0; v < c; v += 16) {
    __m512 w[kTaps];
    for (int t = 0; t < kTaps; ++t) w[t] = _mm512_loadu_ps(weights + t * c + v);
    for (int64_t x = 0; x < out_cols; ++x) {
      const bool interior = x >= lo && x < hi;
      __m512 acc = _mm512_setzero_ps();
#pragma GCC unroll 9
      for (int t = 0; t < kTaps; ++t) {
        const int64_t sx = x * stride + shifts[t];
        if (interior || (sx >= 0 && sx < src_cols)) {
          acc = _mm512_fmadd_ps(_mm512_loadu_ps(rows[t] + sx * c + v), w[t], acc);
        }
      }
      _mm512_storeu_ps(out + x * c + v, acc);
    }
  }
}

// gw[t] = the sum over output rows y and columns x of grad[y, x] * row_{y,t}[x + shift_t] (per channel), each
// tap's sum held in a register through a band of rows (a band's rows, read once per 16 channels, stay in L2).
// row_taps is [rows][kTaps]; every row has the same shifts.
template <int kTaps>
ONEMODEL_AVX512 void WeightGrad(const RowTap* row_taps, int64_t rows, const float* grad, int64_t c, int64_t src_cols,
                                int64_t out_cols, float* __restrict gw) {
  int64_t lo, hi;
  InteriorColumns<kTaps>(row_taps, 1, src_cols, out_cols, &lo, &hi);
  int64_t shifts[kTaps];
  for (int t = 0; t < kTaps; ++t) shifts[t] = row_taps[t].shift;
  std::fill_n(gw, kTaps * c, 0.f);
  // Rows of 64 KiB of grad (with the input rows they read, a few hundred KiB).
  const int64_t band = std::max<int64_t>(1, (16 << 10) / (out_cols * c));
  for (int64_t y0 = 0; y0 < rows; y0 += band) {
    const int64_t y1 = std::min(rows, y0 + band);
    for (int64_t v = 0; v < c; v += 16) {
      __m512 acc[kTaps];
      for (int t = 0; t < kTaps; ++t) acc[t] = _mm512_loadu_ps(gw + t * c + v);
      for (int64_t y = y0; y < y1; ++y) {
        const RowTap* taps = row_taps + y * kTaps;
        const float* grad_row = grad + y * out_cols * c;
        for (int64_t x = 0; x < out_cols; ++x) {
          const bool interior = x >= lo && x < hi;
          const __m512 g = _mm512_loadu_ps(grad_row + x * c + v);
#pragma GCC unroll 9
          for (int t = 0; t < kTaps; ++t) {
            const int64_t sx = x + shifts[t];
            if (interior || (sx >= 0 && sx < src_cols)) {
              acc[t] = _mm512_fmadd_ps(g, _mm512_loadu_ps(taps[t].row + sx * c + v), acc[t]);
            }
          }
        }
      }
      for (int t = 0; t < kTaps; ++t) _mm512_storeu_ps(gw + t * c + v, acc[t]);
    }
  }
}

bool WorthThreads(const DepthwiseGeometry& g) { return g.b * g.oh * g.ow * g.c * g.kh * g.kw > (1 << 15); }

// The taps of output row y of batch element b over x (zeros for padding rows), in the kernel's order.
template <int kTaps>
void ForwardTaps(const DepthwiseGeometry& g, const Conv2dOptions& o, const float* x, const float* zeros, int64_t b,
                 int64_t y, RowTap* taps) {
  for (int64_t i = 0; i < g.kh; ++i) {
    const int64_t iy = y * o.stride_h - o.pad_top + i * o.dilation_h;
    const float* row = iy >= 0 && iy < g.h ? x + (b * g.h + iy) * g.w * g.c : zeros;
    for (int64_t j = 0; j < g.kw; ++j) taps[i * g.kw + j] = {row, j * o.dilation_w - o.pad_left};
  }
}

template <int kTaps>
void Forward(const DepthwiseGeometry& g, const Conv2dOptions& o, const float* x, const float* w, float* out) {
  const std::vector<float> zeros(g.w * g.c, 0.f);
#pragma omp parallel for collapse(2) if (WorthThreads(g))
  for (int64_t b = 0; b < g.b; ++b) {
    for (int64_t y = 0; y < g.oh; ++y) {
      RowTap taps[kTaps];
      ForwardTaps<kTaps>(g, o, x, zeros.data(), b, y, taps);
      RowConv<kTaps>(taps, w, g.c, o.stride_w, g.w, g.ow, out + (b * g.oh + y) * g.ow * g.c);
    }
  }
}

template <int kTaps>
void Backward(const DepthwiseGeometry& g, const Conv2dOptions& o, const float* x, const float* w, const float* grad,
              float* gx, float* gw) {
  const int64_t c = g.c;
  const std::vector<float> zeros(std::max(g.w, g.ow) * c, 0.f);
  // Input row iy correlates the gradient rows that read it with the kernel's rows reversed: the output rows in
  // ascending order, as the general path adds them.
  std::vector<float> reversed(kTaps * c);
  for (int64_t i = 0; i < g.kh; ++i) {
    std::copy(w + i * g.kw * c, w + (i + 1) * g.kw * c, reversed.begin() + (g.kh - 1 - i) * g.kw * c);
  }
#pragma omp parallel for collapse(2) if (WorthThreads(g))
  for (int64_t b = 0; b < g.b; ++b) {
    for (int64_t iy = 0; iy < g.h; ++iy) {
      RowTap taps[kTaps];
      for (int64_t r = 0; r < g.kh; ++r) {
        const int64_t y_scaled = iy + o.pad_top - (g.kh - 1 - r) * o.dilation_h;
        const bool reads = y_scaled >= 0 && y_scaled % o.stride_h == 0 && y_scaled / o.stride_h < g.oh;
        const float* row = reads ? grad + (b * g.oh + y_scaled / o.stride_h) * g.ow * c : zeros.data();
        for (int64_t j = 0; j < g.kw; ++j) taps[r * g.kw + j] = {row, o.pad_left - j * o.dilation_w};
      }
      RowConv<kTaps>(taps, reversed.data(), c, 1, g.ow, g.w, gx + (b * g.h + iy) * g.w * c);
    }
  }
  // Weight gradient: one partial per batch element, added up in order (deterministic at any thread count).
  std::vector<float> partial(g.b * kTaps * c);
#pragma omp parallel for if (WorthThreads(g))
  for (int64_t b = 0; b < g.b; ++b) {
    std::vector<RowTap> row_taps(g.oh * kTaps);
    for (int64_t y = 0; y < g.oh; ++y) ForwardTaps<kTaps>(g, o, x, zeros.data(), b, y, &row_taps[y * kTaps]);
    WeightGrad<kTaps>(row_taps.data(), g.oh, grad + b * g.oh * g.ow * c, c, g.w, g.ow, &partial[b * kTaps * c]);
  }
  std::fill_n(gw, kTaps * c, 0.f);
  for (int64_t b = 0; b < g.b; ++b) {
    for (int64_t k = 0; k < kTaps * c; ++k) gw[k] += partial[b * kTaps * c + k];
  }
}

}  // namespace

bool DepthwiseAvx512Applies(const DepthwiseGeometry& g, const Conv2dOptions& o) {
  static const bool has_avx512 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  const int64_t taps = g.kh * g.kw;
  return has_avx512 && g.c % 16 == 0 && (taps == 3 || taps == 9);
}

bool DepthwiseAvx512BackwardApplies(const DepthwiseGeometry& g, const Conv2dOptions& o) {
  return DepthwiseAvx512Applies(g, o) && o.stride_w == 1;
}

void DepthwiseForwardAvx512(const DepthwiseGeometry& g, const Conv2dOptions& o, const float* x, const float* w,
                            float* out) {
  CHECK(DepthwiseAvx512Applies(g, o)) << "DepthwiseForwardAvx512: not a conv for the AVX-512 path";
  if (g.kh * g.kw == 3) {
    Forward<3>(g, o, x, w, out);
  } else {
    Forward<9>(g, o, x, w, out);
  }
}

void DepthwiseBackwardAvx512(const DepthwiseGeometry& g, const Conv2dOptions& o, const float* x, const float* w,
                             const float* grad, float* gx, float* gw) {
  CHECK(DepthwiseAvx512BackwardApplies(g, o)) << "DepthwiseBackwardAvx512: not a conv for the AVX-512 path";
  if (g.kh * g.kw == 3) {
    Backward<3>(g, o, x, w, grad, gx, gw);
  } else {
    Backward<9>(g, o, x, w, grad, gx, gw);
  }
}

}  // namespace onemodel::ops
