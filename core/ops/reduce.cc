#include "core/ops/reduce.h"

#include <limits>

#include "core/autograd.h"
#include "core/ops/axis.h"
#include "core/ops/shape.h"

namespace onemodel::ops {
namespace {

// Repeats g (shape [outer, inner] after reduction) along the reduced axis, times `factor`.
Tensor ExpandAlong(const Tensor& g, const Shape& shape, const AxisSplit& s, float factor) {
  Tensor out = Tensor::Empty(shape, DType::kF32, g.device());
  if (OnCuda(g)) {
    RequireCudaBackend().ExpandAxis(F32(g), F32(out), s.outer, s.n, s.inner, factor);
    return out;
  }
  const float* pg = g.data<float>();
  float* po = out.data<float>();
#pragma omp parallel for if (s.outer * s.n * s.inner > (1 << 15))
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t j = 0; j < s.n; ++j) {
      for (int64_t i = 0; i < s.inner; ++i) po[(o * s.n + j) * s.inner + i] = factor * pg[o * s.inner + i];
    }
  }
  return out;
}

Tensor SumScaled(const char* op, const Tensor& x, int axis, bool keepdim, bool mean) {
  CheckF32(op, x);
  const AxisSplit s = SplitAt(op, x.shape(), axis);
  const float factor = mean ? 1.f / static_cast<float>(s.n) : 1.f;
  Tensor out = Tensor::Empty(ReducedShape(x.shape(), s.axis, keepdim), DType::kF32, x.device());
  auto backward = [x, s, factor](const Tensor& g, const Tensor&) {
    return std::vector<Tensor>{ExpandAlong(g, x.shape(), s, factor)};
  };
  if (OnCuda(x)) {
    RequireCudaBackend().ReduceAxis(F32(x), F32(out), s.outer, s.n, s.inner, factor);
    return Record(out, op, {x}, backward);
  }
  const float* px = x.data<float>();
  float* po = out.data<float>();
#pragma omp parallel for if (x.numel() > (1 << 15))
  for (int64_t o = 0; o < s.outer; ++o) {
    if (s.inner == 1) {  // reducing the last dim: a contiguous row
      float acc = 0.f;
#pragma omp simd reduction(+ : acc)
      for (int64_t j = 0; j < s.n; ++j) acc += px[o * s.n + j];
      po[o] = acc * factor;
      continue;
    }
    // Otherwise accumulate whole rows of `inner` values: contiguous and vectorized.
    float* out_row = po + o * s.inner;
    for (int64_t i = 0; i < s.inner; ++i) out_row[i] = 0.f;
    for (int64_t j = 0; j < s.n; ++j) {
      const float* in_row = px + (o * s.n + j) * s.inner;
      for (int64_t i = 0; i < s.inner; ++i) out_row[i] += in_row[i];
    }
    for (int64_t i = 0; i < s.inner; ++i) out_row[i] *= factor;
  }
  return Record(out, op, {x}, backward);
}

}  // namespace

Tensor Sum(const Tensor& x, int axis, bool keepdim) { return SumScaled("Sum", x, axis, keepdim, false); }

Tensor Mean(const Tensor& x, int axis, bool keepdim) { return SumScaled("Mean", x, axis, keepdim, true); }

Tensor SumAll(const Tensor& x) { return Sum(Reshape(x, {-1}), 0); }

Tensor MeanAll(const Tensor& x) { return Mean(Reshape(x, {-1}), 0); }

Tensor Max(const Tensor& x, int axis, bool keepdim) {
  CheckF32("Max", x);
  const AxisSplit s = SplitAt("Max", x.shape(), axis);
  CHECK_GT(s.n, 0) << "Max: empty axis in shape " << ShapeToString(x.shape());
  Tensor out = Tensor::Empty(ReducedShape(x.shape(), s.axis, keepdim), DType::kF32, x.device());
  Tensor argmax = Tensor::Empty({s.outer * s.inner}, DType::kI64, x.device());  // j of each output
  if (OnCuda(x)) {
    RequireCudaBackend().MaxAxis(F32(x), F32(out), static_cast<int64_t*>(argmax.raw_data()), s.outer, s.n, s.inner);
    return Record(out, "Max", {x}, [x, s, argmax](const Tensor& g, const Tensor&) {
      Tensor gx = Tensor::Empty(x.shape(), DType::kF32, x.device());
      RequireCudaBackend().MaxAxisBackward(F32(g), static_cast<const int64_t*>(argmax.raw_data()), F32(gx), s.outer,
                                           s.n, s.inner);
      return std::vector<Tensor>{gx};
    });
  }
  const float* px = x.data<float>();
  float* po = out.data<float>();
  int64_t* pa = argmax.data<int64_t>();
#pragma omp parallel for if (x.numel() > (1 << 15))
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t i = 0; i < s.inner; ++i) {
      float best = -std::numeric_limits<float>::infinity();
      int64_t best_j = 0;
      for (int64_t j = 0; j < s.n; ++j) {
        const float v = px[(o * s.n + j) * s.inner + i];
        if (v > best) best = v, best_j = j;
      }
      po[o * s.inner + i] = best;
      pa[o * s.inner + i] = best_j;
    }
  }
  return Record(out, "Max", {x}, [x, s, argmax](const Tensor& g, const Tensor&) {
    Tensor gx = Tensor::Zeros(x.shape());
    const float* pg = g.data<float>();
    const int64_t* pa = argmax.data<int64_t>();
    float* pgx = gx.data<float>();
    for (int64_t o = 0; o < s.outer; ++o) {
      for (int64_t i = 0; i < s.inner; ++i) {
        pgx[(o * s.n + pa[o * s.inner + i]) * s.inner + i] = pg[o * s.inner + i];
      }
    }
    return std::vector<Tensor>{gx};
  });
}

}  // namespace onemodel::ops
