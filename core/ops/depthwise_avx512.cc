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

// A tap's source row (zeros where the row is padding), its column shift (output column x reads source column
// x * stride + shift) and its c weights.
struct RowTap {
  const float* row;
  int64_t shift;
  const float* weight;
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

// out[x * out_step] = the sum over taps t, in order, of row_t[x * stride + shift_t] * weight_t (per channel) for x
// in [0, out_cols), as one chain of fused multiply-adds from zero; a source column outside [0, src_cols) adds
// nothing. Rows are [cols, c]; out_step is c for a whole row, a multiple of it for every n-th column.
template <int kTaps>
ONEMODEL_AVX512 void RowConv(const RowTap* taps, int64_t c, int64_t stride, int64_t src_cols, int64_t out_cols,
                             int64_t out_step, float* __restrict out) {
  int64_t lo, hi;
  InteriorColumns<kTaps>(taps, stride, src_cols, out_cols, &lo, &hi);
  const float* rows[kTaps];
  int64_t shifts[kTaps];
  for (int t = 0; t < kTaps; ++t) rows[t] = taps[t].row, shifts[t] = taps[t].shift;
  for (int64_t v = 0; v < c; v += 16) {
    __m512 w[kTaps];
    for (int t = 0; t < kTaps; ++t) w[t] = _mm512_loadu_ps(taps[t].weight + v);
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
      _mm512_storeu_ps(out + x * out_step + v, acc);
    }
  }
}

// RowConv of `n` taps (0 to 9, known only at run time: the input gradient of a strided conv): no tap writes zeros.
void RowConvOf(int n, const RowTap* taps, int64_t c, int64_t stride, int64_t src_cols, int64_t out_cols,
               int64_t out_step, float* out) {
  switch (n) {
    case 0:
      for (int64_t x = 0; x < out_cols; ++x) std::fill_n(out + x * out_step, c, 0.f);
      return;
    case 1: return RowConv<1>(taps, c, stride, src_cols, out_cols, out_step, out);
    case 2: return RowConv<2>(taps, c, stride, src_cols, out_cols, out_step, out);
    case 3: return RowConv<3>(taps, c, stride, src_cols, out_cols, out_step, out);
    case 4: return RowConv<4>(taps, c, stride, src_cols, out_cols, out_step, out);
    case 5: return RowConv<5>(taps, c, stride, src_cols, out_cols, out_step, out);
    case 6: return RowConv<6>(taps, c, stride, src_cols, out_cols, out_step, out);
    case 7: return RowConv<7>(taps, c, stride, src_cols, out_cols, out_step, out);
    case 8: return RowConv<8>(taps, c, stride, src_cols, out_cols, out_step, out);
    case 9: return RowConv<9>(taps, c, stride, src_cols, out_cols, out_step, out);
  }
  LOG(FATAL) << "RowConvOf: " << n << " taps (at most 9)";
}

// gw[t] = the sum over output rows y and columns x of grad[y, x] * row_{y,t}[x * stride + shift_t] (per channel),
// each tap's sum held in a register through a band of rows (a band's rows, read once per 16 channels, stay in L2).
// row_taps is [rows][kTaps]; every row has the same shifts.
template <int kTaps>
ONEMODEL_AVX512 void WeightGrad(const RowTap* row_taps, int64_t rows, const float* grad, int64_t c, int64_t stride,
                                int64_t src_cols, int64_t out_cols, float* __restrict gw) {
  int64_t lo, hi;
  InteriorColumns<kTaps>(row_taps, stride, src_cols, out_cols, &lo, &hi);
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
            const int64_t sx = x * stride + shifts[t];
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
void ForwardTaps(const DepthwiseGeometry& g, const Conv2dOptions& o, const float* x, const float* w,
                 const float* zeros, int64_t b, int64_t y, RowTap* taps) {
  for (int64_t i = 0; i < g.kh; ++i) {
    const int64_t iy = y * o.stride_h - o.pad_top + i * o.dilation_h;
    const float* row = iy >= 0 && iy < g.h ? x + (b * g.h + iy) * g.w * g.c : zeros;
    for (int64_t j = 0; j < g.kw; ++j) {
      const int64_t t = i * g.kw + j;
      taps[t] = {row, j * o.dilation_w - o.pad_left, w + t * g.c};
    }
  }
}

template <int kTaps>
void Forward(const DepthwiseGeometry& g, const Conv2dOptions& o, const float* x, const float* w, float* out) {
  const std::vector<float> zeros(g.w * g.c, 0.f);
#pragma omp parallel for collapse(2) if (WorthThreads(g))
  for (int64_t b = 0; b < g.b; ++b) {
    for (int64_t y = 0; y < g.oh; ++y) {
      RowTap taps[kTaps];
      ForwardTaps<kTaps>(g, o, x, w, zeros.data(), b, y, taps);
      RowConv<kTaps>(taps, g.c, o.stride_w, g.w, g.ow, g.c, out + (b * g.oh + y) * g.ow * g.c);
    }
  }
}

// Input column ix of row iy gathers grad[oy, ox] * w[i, j] over the taps with iy = oy * stride_h - pad_top +
// i * dilation_h (and the same along the columns). Along a strided width the columns of one residue class
// ix = r + k * stride_w are gathered by the same kernel columns j, from output column k + (r + pad_left -
// j * dilation_w) / stride_w: each class is a stride-1 correlation of the gradient rows with only the taps that
// reach it (at stride 2 by a 3x3 kernel, 1 to 4 of the 9), output rows in ascending order.
template <int kTaps>
void InputGrad(const DepthwiseGeometry& g, const Conv2dOptions& o, const float* w, const float* grad, float* gx) {
  const int64_t c = g.c, classes = std::min(o.stride_w, g.w);
#pragma omp parallel for collapse(2) if (WorthThreads(g))
  for (int64_t b = 0; b < g.b; ++b) {
    for (int64_t iy = 0; iy < g.h; ++iy) {
      for (int64_t r = 0; r < classes; ++r) {
        RowTap taps[kTaps];
        int n = 0;
        for (int64_t i = g.kh - 1; i >= 0; --i) {
          const int64_t y_scaled = iy + o.pad_top - i * o.dilation_h;
          if (y_scaled < 0 || y_scaled % o.stride_h != 0 || y_scaled / o.stride_h >= g.oh) continue;
          const float* row = grad + (b * g.oh + y_scaled / o.stride_h) * g.ow * c;
          for (int64_t j = 0; j < g.kw; ++j) {
            const int64_t x_scaled = r + o.pad_left - j * o.dilation_w;  // divisible: exact (negative too)
            if (x_scaled % o.stride_w == 0) taps[n++] = {row, x_scaled / o.stride_w, w + (i * g.kw + j) * c};
          }
        }
        const int64_t columns = (g.w - r + o.stride_w - 1) / o.stride_w;
        RowConvOf(n, taps, c, 1, g.ow, columns, o.stride_w * c, gx + ((b * g.h + iy) * g.w + r) * c);
      }
    }
  }
}

template <int kTaps>
void Backward(const DepthwiseGeometry& g, const Conv2dOptions& o, const float* x, const float* w, const float* grad,
              float* gx, float* gw) {
  const int64_t c = g.c;
  InputGrad<kTaps>(g, o, w, grad, gx);
  // Weight gradient: one partial per batch element, added up in order (deterministic at any thread count).
  const std::vector<float> zeros(g.w * c, 0.f);
  std::vector<float> partial(g.b * kTaps * c);
#pragma omp parallel for if (WorthThreads(g))
  for (int64_t b = 0; b < g.b; ++b) {
    std::vector<RowTap> row_taps(g.oh * kTaps);
    for (int64_t y = 0; y < g.oh; ++y) ForwardTaps<kTaps>(g, o, x, w, zeros.data(), b, y, &row_taps[y * kTaps]);
    WeightGrad<kTaps>(row_taps.data(), g.oh, grad + b * g.oh * g.ow * c, c, o.stride_w, g.w, g.ow,
                      &partial[b * kTaps * c]);
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
  return has_avx512 && g.c > 0 && g.c % 16 == 0 && (taps == 3 || taps == 9);
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
  CHECK(DepthwiseAvx512Applies(g, o)) << "DepthwiseBackwardAvx512: not a conv for the AVX-512 path";
  if (g.kh * g.kw == 3) {
    Backward<3>(g, o, x, w, grad, gx, gw);
  } else {
    Backward<9>(g, o, x, w, grad, gx, gw);
  }
}

}  // namespace onemodel::ops
