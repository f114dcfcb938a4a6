#include "core/ops/plane_conv.h"

#include <algorithm>

#include "core/autograd.h"
#include "core/ops/axis.h"
#include "core/ops/conv.h"
#include "core/ops/elementwise.h"
#include "core/ops/matmul.h"
#include "core/ops/shape.h"

namespace onemodel::ops {
namespace {

constexpr int64_t kTaps = 9;

// Planes [b, h, w] into c channels; rows[p]: plane p's real rows (at most h).
struct PlaneGeometry {
  int64_t b, h, w, c;
  std::vector<int64_t> rows;
};

// fn(tap, input offset within the plane) for each tap of output (y, x) inside the real rows and the width, in tap
// order. Inside the plane every tap is real: a fixed unrolled chain, which lets the compiler keep the callers' sums
// in registers (through the checked loop they stayed in memory, a store and a load per tap).
template <typename Fn>
inline void ForEachTap(const PlaneGeometry& g, int64_t rows, int64_t y, int64_t x, Fn fn) {
  if (y >= 1 && y + 1 < rows && x >= 1 && x + 1 < g.w) {
#pragma GCC unroll 9
    for (int64_t tap = 0; tap < kTaps; ++tap) fn(tap, (y + tap / 3 - 1) * g.w + x + tap % 3 - 1);
    return;
  }
  for (int64_t i = 0; i < 3; ++i) {
    const int64_t iy = y + i - 1;
    if (iy < 0 || iy >= rows) continue;
    for (int64_t j = 0; j < 3; ++j) {
      const int64_t ix = x + j - 1;
      if (ix >= 0 && ix < g.w) fn(i * 3 + j, iy * g.w + ix);
    }
  }
}

// Channels in blocks of CB (a compile-time width the compiler keeps in vector registers).
template <int CB>
void ForwardCpu(const PlaneGeometry& g, const float* px, const float* pw, const float* pb, float* po) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < g.b * g.h; ++r) {
    const int64_t p = r / g.h, y = r % g.h;
    float* out = po + r * g.w * g.c;
    if (y >= g.rows[p]) {
      std::fill_n(out, g.w * g.c, 0.f);
      continue;
    }
    const float* plane = px + p * g.h * g.w;
    for (int64_t x = 0; x < g.w; ++x) {
      for (int64_t c0 = 0; c0 < g.c; c0 += CB) {
        float acc[CB];
        for (int k = 0; k < CB; ++k) acc[k] = pb[c0 + k];
        ForEachTap(g, g.rows[p], y, x, [&](int64_t tap, int64_t at) {
          const float v = plane[at];
          const float* w = pw + tap * g.c + c0;
#pragma omp simd
          for (int k = 0; k < CB; ++k) acc[k] += v * w[k];
        });
        float* o = out + x * g.c + c0;
#pragma omp simd
        for (int k = 0; k < CB; ++k) o[k] = acc[k] > 0.f ? acc[k] : 0.f;
      }
    }
  }
}

// Gradients from the output's gradient pg and the output py (relu passes where py > 0; the padding rows' outputs
// are 0 and pass nothing). Each plane's weight and bias sums go to its own slot, added in plane order afterwards:
// the same numbers at any thread count. gx (zeroed; null when x needs no gradient) gets each tap's dot product.
template <int CB>
void BackwardCpu(const PlaneGeometry& g, const float* px, const float* pw, const float* py, const float* pg,
                 float* gx, float* gw, float* gb) {
  const int64_t slot = (kTaps + 1) * g.c;  // a plane's weight sums, then its bias sums
  std::vector<float> partial(g.b * slot, 0.f);
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t p = 0; p < g.b; ++p) {
    const float* plane = px + p * g.h * g.w;
    float* plane_gx = gx == nullptr ? nullptr : gx + p * g.h * g.w;
    for (int64_t c0 = 0; c0 < g.c; c0 += CB) {
      float tap_sums[kTaps][CB] = {}, bias_sums[CB] = {};
      for (int64_t y = 0; y < g.rows[p]; ++y) {
        for (int64_t x = 0; x < g.w; ++x) {
          const int64_t at = ((p * g.h + y) * g.w + x) * g.c + c0;
          float passed[CB];
#pragma omp simd
          for (int k = 0; k < CB; ++k) passed[k] = py[at + k] > 0.f ? pg[at + k] : 0.f;
          for (int k = 0; k < CB; ++k) bias_sums[k] += passed[k];
          ForEachTap(g, g.rows[p], y, x, [&](int64_t tap, int64_t in) {
            const float v = plane[in];
#pragma omp simd
            for (int k = 0; k < CB; ++k) tap_sums[tap][k] += v * passed[k];
            if (plane_gx != nullptr) {
              float dot = 0.f;
              for (int k = 0; k < CB; ++k) dot += passed[k] * pw[tap * g.c + c0 + k];
              plane_gx[in] += dot;
            }
          });
        }
      }
      float* sums = partial.data() + p * slot;
      for (int64_t tap = 0; tap < kTaps; ++tap) std::copy_n(tap_sums[tap], CB, sums + tap * g.c + c0);
      std::copy_n(bias_sums, CB, sums + kTaps * g.c + c0);
    }
  }
  std::fill_n(gw, kTaps * g.c, 0.f);
  std::fill_n(gb, g.c, 0.f);
  for (int64_t p = 0; p < g.b; ++p) {
    const float* sums = partial.data() + p * slot;
    for (int64_t i = 0; i < kTaps * g.c; ++i) gw[i] += sums[i];
    for (int64_t k = 0; k < g.c; ++k) gb[k] += sums[kTaps * g.c + k];
  }
}

template <typename Fn>
void DispatchChannelBlock(int64_t c, Fn fn) {
  if (c % 32 == 0) {
    fn(std::integral_constant<int, 32>{});
  } else if (c % 16 == 0) {
    fn(std::integral_constant<int, 16>{});
  } else {
    fn(std::integral_constant<int, 1>{});
  }
}

PlaneGeometry Geometry(const Tensor& x, const Tensor& weight, const Tensor& bias, const std::vector<int64_t>& rows) {
  for (const Tensor* t : {&x, &weight, &bias}) CheckF32("PlaneConv3x3Relu", *t);
  CheckSameDevice("PlaneConv3x3Relu", x, weight);
  CheckSameDevice("PlaneConv3x3Relu", x, bias);
  CHECK(x.ndim() == 3 && weight.ndim() == 3 && weight.dim(0) == 3 && weight.dim(1) == 3 && bias.ndim() == 1 &&
        bias.dim(0) == weight.dim(2))
      << "PlaneConv3x3Relu: x " << ShapeToString(x.shape()) << ", weight " << ShapeToString(weight.shape())
      << " and bias " << ShapeToString(bias.shape()) << " must be [B, H, W], [3, 3, C] and [C]";
  CHECK(rows.empty() || static_cast<int64_t>(rows.size()) == x.dim(0))
      << "PlaneConv3x3Relu: " << rows.size() << " row counts for " << x.dim(0) << " planes";
  PlaneGeometry g{x.dim(0), x.dim(1), x.dim(2), weight.dim(2), {}};
  g.rows.assign(g.b, g.h);
  for (size_t p = 0; p < rows.size(); ++p) g.rows[p] = std::clamp<int64_t>(rows[p], 0, g.h);
  return g;
}

}  // namespace

Tensor PlaneConv3x3ReluComposed(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                const std::vector<int64_t>& rows) {
  const PlaneGeometry g = Geometry(x, weight, bias, rows);
  Tensor plane = Reshape(x, {g.b, g.h, g.w, 1});
  Tensor mask;
  if (std::any_of(g.rows.begin(), g.rows.end(), [&g](int64_t r) { return r < g.h; })) {
    mask = Reshape(LengthMask(g.rows, g.h, x.device()), {g.b, g.h, 1, 1});
    plane = Mul(plane, mask);
  }
  // Each position's 3x3 neighbourhood as 9 channels (the plane copied 9 times, a depthwise conv whose tap t picks
  // neighbour t), then one f32 product with the [9, C] kernel: 9-channel intermediates, as the stem had before.
  std::vector<float> pick(kTaps * kTaps, 0.f);
  for (int64_t t = 0; t < kTaps; ++t) pick[t * kTaps + t] = 1.f;
  Conv2dOptions o;
  o.pad_top = o.pad_bottom = o.pad_left = o.pad_right = 1;
  const Tensor copies = Mul(plane, Tensor::Full({kTaps}, 1.f).To(x.device()));
  const Tensor neighbours = DepthwiseConv2d(copies, Tensor::FromVector(pick, {3, 3, kTaps}).To(x.device()), o);
  const MatmulPrecisionScope f32(MatmulPrecision::kF32);
  const Tensor y = Relu(BiasAdd(MatMul(neighbours, Reshape(weight, {kTaps, g.c})), bias));
  return mask.defined() ? Mul(y, mask) : y;
}

Tensor PlaneConv3x3Relu(const Tensor& x, const Tensor& weight, const Tensor& bias, const std::vector<int64_t>& rows) {
  if (OnCuda(x)) return PlaneConv3x3ReluComposed(x, weight, bias, rows);
  const PlaneGeometry g = Geometry(x, weight, bias, rows);

  Tensor out = Tensor::Empty({g.b, g.h, g.w, g.c});
  DispatchChannelBlock(g.c, [&](auto cb) { ForwardCpu<cb>(g, F32(x), F32(weight), F32(bias), F32(out)); });
  const bool x_grad = x.requires_grad();
  return Record(out, "PlaneConv3x3Relu", {x, weight, bias},
                [x, weight, g, x_grad](const Tensor& grad, const Tensor& out) {
                  Tensor gx = x_grad ? Tensor::Zeros(x.shape()) : Tensor();
                  Tensor gw = Tensor::Empty(weight.shape()), gb = Tensor::Empty({g.c});
                  DispatchChannelBlock(g.c, [&](auto cb) {
                    BackwardCpu<cb>(g, F32(x), F32(weight), F32(out), F32(grad), x_grad ? F32(gx) : nullptr,
                                    F32(gw), F32(gb));
                  });
                  return std::vector<Tensor>{gx, gw, gb};
                });
}

}  // namespace onemodel::ops
