#include "core/ops/conv.h"

#include <algorithm>
#include <vector>

#include "core/autograd.h"
#include "core/cuda_backend.h"
#include "core/ops/axis.h"
#include "core/ops/depthwise_avx512.h"
#include "core/ops/elementwise.h"
#include "core/ops/matmul.h"
#include "core/ops/shape.h"

namespace onemodel::ops {

int64_t WindowOutputSize(const char* op, int64_t input, int64_t kernel, int64_t stride, int64_t pad_before,
                         int64_t pad_after, int64_t dilation) {
  CHECK(kernel >= 1 && stride >= 1 && dilation >= 1 && pad_before >= 0 && pad_after >= 0)
      << op << ": kernel " << kernel << ", stride " << stride << ", dilation " << dilation << ", padding "
      << pad_before << "/" << pad_after << " (kernel, stride, dilation >= 1; padding >= 0)";
  const int64_t span = dilation * (kernel - 1) + 1;
  CHECK_GE(input + pad_before + pad_after, span)
      << op << ": window of " << span << " does not fit an input of " << input << " padded by " << pad_before
      << "+" << pad_after;
  return (input + pad_before + pad_after - span) / stride + 1;
}

namespace {

// Calls fn(out_offset, in_offset, weight_offset) (in units of channel vectors) for every valid tap of
// batch element `b`. Forward and both gradients walk the same taps.
template <typename Fn>
void ForEachTap(const DepthwiseGeometry& g, const Conv2dOptions& o, int64_t b, Fn fn) {
  for (int64_t y = 0; y < g.oh; ++y) {
    for (int64_t x = 0; x < g.ow; ++x) {
      for (int64_t i = 0; i < g.kh; ++i) {
        const int64_t iy = y * o.stride_h - o.pad_top + i * o.dilation_h;
        if (iy < 0 || iy >= g.h) continue;
        for (int64_t j = 0; j < g.kw; ++j) {
          const int64_t ix = x * o.stride_w - o.pad_left + j * o.dilation_w;
          if (ix < 0 || ix >= g.w) continue;
          fn((b * g.oh + y) * g.ow + x, (b * g.h + iy) * g.w + ix, i * g.kw + j);
        }
      }
    }
  }
}

// out[i] += a[i] * b[i]: the per-tap channel loop, kept out of the lambdas so it vectorizes.
inline void MulAdd(float* __restrict out, const float* __restrict a, const float* __restrict b, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] += a[i] * b[i];
}

}  // namespace

namespace {

CudaBackend::DepthwiseConvShape CudaShape(const DepthwiseGeometry& g, const Conv2dOptions& o) {
  return {g.b, g.h, g.w, g.c, g.kh, g.kw, g.oh, g.ow, o.stride_h, o.stride_w, o.pad_top, o.pad_left,
          o.dilation_h, o.dilation_w};
}

// Stride 1 along the width: for tap (i, j) the valid outputs of row y are one contiguous range [x0, x1) that reads
// one contiguous input range, so a single multiply-add covers (x1 - x0) * c floats against the tap's weights tiled
// across the row. That stays vectorized for any channel count — the image and audio stems have 9 channels, where a
// multiply-add per output position and tap is mostly loop overhead.
struct TapRow {
  int64_t out, in, weight, n;  // float offsets into the output (row), the input and the tiled weights; length
};

template <typename Fn>
void ForEachTapRow(const DepthwiseGeometry& g, const Conv2dOptions& o, int64_t b, Fn fn) {
  const int64_t c = g.c;
  for (int64_t y = 0; y < g.oh; ++y) {
    for (int64_t i = 0; i < g.kh; ++i) {
      const int64_t iy = y * o.stride_h - o.pad_top + i * o.dilation_h;
      if (iy < 0 || iy >= g.h) continue;
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t shift = j * o.dilation_w - o.pad_left;  // input column of output column x: x + shift
        const int64_t x0 = std::max<int64_t>(0, -shift), x1 = std::min(g.ow, g.w - shift);
        if (x1 <= x0) continue;
        fn(TapRow{((b * g.oh + y) * g.ow + x0) * c, ((b * g.h + iy) * g.w + x0 + shift) * c,
                  ((i * g.kw + j) * g.ow + x0) * c, (x1 - x0) * c});
      }
    }
  }
}

// [kh * kw, ow * c]: each tap's c weights repeated for every output column.
std::vector<float> TiledWeights(const DepthwiseGeometry& g, const float* pw) {
  std::vector<float> tiled(g.kh * g.kw * g.ow * g.c);
  for (int64_t t = 0; t < g.kh * g.kw; ++t) {
    for (int64_t x = 0; x < g.ow; ++x) std::copy(pw + t * g.c, pw + (t + 1) * g.c, tiled.data() + (t * g.ow + x) * g.c);
  }
  return tiled;
}

bool RowWise(const Conv2dOptions& o) { return o.stride_w == 1; }

void ForwardCpu(const DepthwiseGeometry& g, const Conv2dOptions& o, const float* px, const float* pw, float* po) {
  const int64_t c = g.c;
  const bool rows = RowWise(o);
  const std::vector<float> tiled = rows ? TiledWeights(g, pw) : std::vector<float>();
#pragma omp parallel for if (g.b * g.oh * g.ow * g.c * g.kh * g.kw > (1 << 15))
  for (int64_t b = 0; b < g.b; ++b) {
    if (rows) {
      ForEachTapRow(g, o, b, [&](const TapRow& r) { MulAdd(po + r.out, px + r.in, tiled.data() + r.weight, r.n); });
    } else {
      ForEachTap(g, o, b, [&](int64_t oi, int64_t ii, int64_t wi) { MulAdd(po + oi * c, px + ii * c, pw + wi * c, c); });
    }
  }
}

// gx and gw start zeroed.
void BackwardCpu(const DepthwiseGeometry& g, const Conv2dOptions& o, const float* px, const float* pw, const float* pg,
                 float* pgx, float* pgw) {
  const int64_t c = g.c, taps = g.kh * g.kw;
  const bool rows = RowWise(o);
  const std::vector<float> tiled = rows ? TiledWeights(g, pw) : std::vector<float>();
  // Weight gradient: one partial per batch element (tiled across the row on the row-wise path), summed in order
  // afterwards (deterministic).
  const int64_t columns = rows ? g.ow : 1, partial_size = taps * columns * c;
  std::vector<float> partial(g.b * partial_size, 0.f);
#pragma omp parallel for if (g.b * g.oh * g.ow * g.c * g.kh * g.kw > (1 << 15))
  for (int64_t b = 0; b < g.b; ++b) {
    float* pgw_b = partial.data() + b * partial_size;
    if (rows) {
      ForEachTapRow(g, o, b, [&](const TapRow& r) {
        MulAdd(pgx + r.in, pg + r.out, tiled.data() + r.weight, r.n);
        MulAdd(pgw_b + r.weight, pg + r.out, px + r.in, r.n);
      });
    } else {
      ForEachTap(g, o, b, [&](int64_t oi, int64_t ii, int64_t wi) {
        MulAdd(pgx + ii * c, pg + oi * c, pw + wi * c, c);
        MulAdd(pgw_b + wi * c, pg + oi * c, px + ii * c, c);
      });
    }
  }
  for (int64_t b = 0; b < g.b; ++b) {
    for (int64_t t = 0; t < taps; ++t) {
      for (int64_t x = 0; x < columns; ++x) {
        const float* p = partial.data() + b * partial_size + (t * columns + x) * c;
        for (int64_t k = 0; k < c; ++k) pgw[t * c + k] += p[k];
      }
    }
  }
}

}  // namespace

Tensor DepthwiseConv2d(const Tensor& x, const Tensor& weight, const Conv2dOptions& o) {
  CheckF32("DepthwiseConv2d", x);
  CheckF32("DepthwiseConv2d", weight);
  CheckSameDevice("DepthwiseConv2d", x, weight);
  CHECK(x.ndim() == 4 && weight.ndim() == 3 && weight.dim(2) == x.dim(3))
      << "DepthwiseConv2d: x " << ShapeToString(x.shape()) << " and weight " << ShapeToString(weight.shape())
      << " must be [B, H, W, C] and [KH, KW, C]";
  DepthwiseGeometry g{x.dim(0), x.dim(1), x.dim(2), x.dim(3), weight.dim(0), weight.dim(1), 0, 0};
  g.oh = WindowOutputSize("DepthwiseConv2d (height)", g.h, g.kh, o.stride_h, o.pad_top, o.pad_bottom, o.dilation_h);
  g.ow = WindowOutputSize("DepthwiseConv2d (width)", g.w, g.kw, o.stride_w, o.pad_left, o.pad_right, o.dilation_w);
  const Device device = x.device();
  // The AVX-512 path writes every element; the others add into zeros.
  const bool avx512 = !OnCuda(x) && DepthwiseAvx512Applies(g, o);
  const auto output = [device](bool written, const Shape& shape) {
    return written ? Tensor::Empty(shape, DType::kF32, device) : Tensor::Zeros(shape, DType::kF32, device);
  };
  Tensor out = output(avx512, {g.b, g.oh, g.ow, g.c});
  if (OnCuda(x)) {
    RequireCudaBackend().DepthwiseConvForward(CudaShape(g, o), F32(x), F32(weight), F32(out));
  } else if (avx512) {
    DepthwiseForwardAvx512(g, o, F32(x), F32(weight), F32(out));
  } else {
    ForwardCpu(g, o, F32(x), F32(weight), F32(out));
  }
  return Record(out, "DepthwiseConv2d", {x, weight}, [x, weight, g, o, avx512, output](const Tensor& grad,
                                                                                         const Tensor&) {
    Tensor gx = output(avx512, x.shape());
    Tensor gw = output(avx512, weight.shape());
    if (OnCuda(x)) {
      RequireCudaBackend().DepthwiseConvBackward(CudaShape(g, o), F32(x), F32(weight), F32(grad), F32(gx), F32(gw));
    } else if (avx512) {
      DepthwiseBackwardAvx512(g, o, F32(x), F32(weight), F32(grad), F32(gx), F32(gw));
    } else {
      BackwardCpu(g, o, F32(x), F32(weight), F32(grad), F32(gx), F32(gw));
    }
    return std::vector<Tensor>{gx, gw};
  });
}

Tensor DepthwiseConv1d(const Tensor& x, const Tensor& weight, const Conv1dOptions& o) {
  CHECK(x.ndim() == 3 && weight.ndim() == 2) << "DepthwiseConv1d: x " << ShapeToString(x.shape()) << " and weight "
                                             << ShapeToString(weight.shape()) << " must be [B, T, C] and [K, C]";
  Conv2dOptions o2;
  o2.stride_h = o.stride;
  o2.dilation_h = o.dilation;
  o2.pad_top = o.causal ? (weight.dim(0) - 1) * o.dilation : o.padding;
  o2.pad_bottom = o.causal ? 0 : o.padding;
  Tensor y = DepthwiseConv2d(Reshape(x, {x.dim(0), x.dim(1), 1, x.dim(2)}),
                             Reshape(weight, {weight.dim(0), 1, weight.dim(1)}), o2);
  return Reshape(y, {y.dim(0), y.dim(1), y.dim(3)});
}

namespace {
Tensor Pointwise(const Tensor& y, const Tensor& pointwise, const Tensor& bias) {
  Tensor out = MatMul(y, pointwise);
  return bias.defined() ? BiasAdd(out, bias) : out;
}
}  // namespace

Tensor SeparableConv2d(const Tensor& x, const Tensor& depthwise, const Tensor& pointwise, const Tensor& bias,
                       const Conv2dOptions& options) {
  return Pointwise(DepthwiseConv2d(x, depthwise, options), pointwise, bias);
}

Tensor SeparableConv1d(const Tensor& x, const Tensor& depthwise, const Tensor& pointwise, const Tensor& bias,
                       const Conv1dOptions& options) {
  return Pointwise(DepthwiseConv1d(x, depthwise, options), pointwise, bias);
}

}  // namespace onemodel::ops
