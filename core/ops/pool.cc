#include "core/ops/pool.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "core/autograd.h"
#include "core/cuda_backend.h"
#include "core/ops/axis.h"
#include "core/ops/conv.h"
#include "core/ops/shape.h"

namespace onemodel::ops {
namespace {

struct PoolGeometry {
  int64_t b, h, w, c, oh, ow;
};

PoolGeometry Resolve(const char* op, const Tensor& x, const Pool2dOptions& o) {
  CheckF32(op, x);
  CHECK_EQ(x.ndim(), 4) << op << ": needs [B, H, W, C], got " << ShapeToString(x.shape());
  PoolGeometry g{x.dim(0), x.dim(1), x.dim(2), x.dim(3), 0, 0};
  g.oh = WindowOutputSize(op, g.h, o.kernel_h, o.stride_h, o.pad_h, o.pad_h, 1);
  g.ow = WindowOutputSize(op, g.w, o.kernel_w, o.stride_w, o.pad_w, o.pad_w, 1);
  return g;
}

// Calls fn(out_pixel, in_pixel) for each in-bounds input pixel of each output pixel's window.
template <typename Fn>
void ForEachWindow(const PoolGeometry& g, const Pool2dOptions& o, int64_t b, Fn fn) {
  for (int64_t y = 0; y < g.oh; ++y) {
    for (int64_t x = 0; x < g.ow; ++x) {
      const int64_t out_pixel = (b * g.oh + y) * g.ow + x;
      for (int64_t i = 0; i < o.kernel_h; ++i) {
        const int64_t iy = y * o.stride_h - o.pad_h + i;
        if (iy < 0 || iy >= g.h) continue;
        for (int64_t j = 0; j < o.kernel_w; ++j) {
          const int64_t ix = x * o.stride_w - o.pad_w + j;
          if (ix < 0 || ix >= g.w) continue;
          fn(out_pixel, (b * g.h + iy) * g.w + ix);
        }
      }
    }
  }
}

CudaBackend::PoolShape CudaShape(const PoolGeometry& g, const Pool2dOptions& o) {
  return {g.b, g.h, g.w, g.c, o.kernel_h, o.kernel_w, g.oh, g.ow, o.stride_h, o.stride_w, o.pad_h, o.pad_w};
}

}  // namespace

Tensor MaxPool2d(const Tensor& x, const Pool2dOptions& o) {
  const PoolGeometry g = Resolve("MaxPool2d", x, o);
  const Shape shape{g.b, g.oh, g.ow, g.c};
  Tensor argmax = Tensor::Empty(shape, DType::kI64, x.device());  // input element of each output, -1 for none
  Tensor out = Tensor::Empty(shape, DType::kF32, x.device());
  if (OnCuda(x)) {
    RequireCudaBackend().PoolForward(CudaShape(g, o), true, F32(x), F32(out), static_cast<int64_t*>(argmax.raw_data()));
    return Record(out, "MaxPool2d", {x}, [x, g, o, argmax](const Tensor& grad, const Tensor&) {
      Tensor gx = Tensor::Empty(x.shape(), DType::kF32, x.device());
      RequireCudaBackend().PoolBackward(CudaShape(g, o), true, static_cast<const int64_t*>(argmax.raw_data()),
                                        F32(grad), F32(gx));
      return std::vector<Tensor>{gx};
    });
  }
  out.Fill(-std::numeric_limits<float>::infinity());
  const float* px = x.data<float>();
  float* po = out.data<float>();
  int64_t* pa = argmax.data<int64_t>();
  std::fill(pa, pa + argmax.numel(), -1);
  const int64_t c = g.c;
#pragma omp parallel for if (x.numel() > (1 << 15))
  for (int64_t b = 0; b < g.b; ++b) {
    ForEachWindow(g, o, b, [&](int64_t op, int64_t ip) {
      for (int64_t ch = 0; ch < c; ++ch) {
        if (px[ip * c + ch] > po[op * c + ch]) {
          po[op * c + ch] = px[ip * c + ch];
          pa[op * c + ch] = ip * c + ch;
        }
      }
    });
  }
  return Record(out, "MaxPool2d", {x}, [x, argmax](const Tensor& grad, const Tensor&) {
    Tensor gx = Tensor::Zeros(x.shape());
    const float* pg = grad.data<float>();
    const int64_t* pa = argmax.data<int64_t>();
    float* pgx = gx.data<float>();
    for (int64_t i = 0; i < argmax.numel(); ++i) {
      if (pa[i] >= 0) pgx[pa[i]] += pg[i];
    }
    return std::vector<Tensor>{gx};
  });
}

Tensor AvgPool2d(const Tensor& x, const Pool2dOptions& o) {
  const PoolGeometry g = Resolve("AvgPool2d", x, o);
  if (OnCuda(x)) {
    Tensor out = Tensor::Empty({g.b, g.oh, g.ow, g.c}, DType::kF32, x.device());
    RequireCudaBackend().PoolForward(CudaShape(g, o), false, F32(x), F32(out), nullptr);
    return Record(out, "AvgPool2d", {x}, [x, g, o](const Tensor& grad, const Tensor&) {
      Tensor gx = Tensor::Empty(x.shape(), DType::kF32, x.device());
      RequireCudaBackend().PoolBackward(CudaShape(g, o), false, nullptr, F32(grad), F32(gx));
      return std::vector<Tensor>{gx};
    });
  }
  Tensor out = Tensor::Zeros({g.b, g.oh, g.ow, g.c});
  Tensor counts = Tensor::Zeros({g.oh * g.ow});  // in-bounds pixels per window (same for every batch)
  ForEachWindow(g, o, 0, [&](int64_t op, int64_t) { counts.data<float>()[op] += 1.f; });
  const float* px = x.data<float>();
  const float* pn = counts.data<float>();
  float* po = out.data<float>();
  const int64_t c = g.c, pixels = g.oh * g.ow;
#pragma omp parallel for if (x.numel() > (1 << 15))
  for (int64_t b = 0; b < g.b; ++b) {
    ForEachWindow(g, o, b, [&](int64_t op, int64_t ip) {
      const float inv = 1.f / pn[op % pixels];
      for (int64_t ch = 0; ch < c; ++ch) po[op * c + ch] += px[ip * c + ch] * inv;
    });
  }
  return Record(out, "AvgPool2d", {x}, [x, g, o, counts](const Tensor& grad, const Tensor&) {
    Tensor gx = Tensor::Zeros(x.shape());
    const float* pg = grad.data<float>();
    const float* pn = counts.data<float>();
    float* pgx = gx.data<float>();
    const int64_t c = g.c, pixels = g.oh * g.ow;
#pragma omp parallel for if (x.numel() > (1 << 15))
    for (int64_t b = 0; b < g.b; ++b) {
      ForEachWindow(g, o, b, [&](int64_t op, int64_t ip) {
        const float inv = 1.f / pn[op % pixels];
        for (int64_t ch = 0; ch < c; ++ch) pgx[ip * c + ch] += pg[op * c + ch] * inv;
      });
    }
    return std::vector<Tensor>{gx};
  });
}

namespace {
template <typename Pool2d>
Tensor Pool1d(const char* op, const Tensor& x, int64_t kernel, int64_t stride, int64_t padding, Pool2d pool) {
  CHECK_EQ(x.ndim(), 3) << op << ": needs [B, T, C], got " << ShapeToString(x.shape());
  Pool2dOptions o{kernel, 1, stride, 1, padding, 0};
  Tensor y = pool(Reshape(x, {x.dim(0), x.dim(1), 1, x.dim(2)}), o);
  return Reshape(y, {y.dim(0), y.dim(1), y.dim(3)});
}
}  // namespace

Tensor MaxPool1d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  return Pool1d("MaxPool1d", x, kernel, stride, padding, MaxPool2d);
}

Tensor AvgPool1d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  return Pool1d("AvgPool1d", x, kernel, stride, padding, AvgPool2d);
}

}  // namespace onemodel::ops
