#include "core/ops/shape.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/autograd.h"
#include "core/ops/axis.h"

namespace onemodel::ops {

namespace {
// Copies `rows` runs of `width` floats from src (rows `src_pitch` apart) to dst (rows `dst_pitch` apart).
void CopyRows(float* dst, int64_t dst_pitch, const float* src, int64_t src_pitch, int64_t width, int64_t rows,
              bool cuda) {
  if (cuda) {
    RequireCudaBackend().CopyRows2D(dst, dst_pitch * sizeof(float), src, src_pitch * sizeof(float),
                                    width * sizeof(float), rows);
    return;
  }
  for (int64_t o = 0; o < rows; ++o) std::memcpy(dst + o * dst_pitch, src + o * src_pitch, width * sizeof(float));
}
}  // namespace

Tensor Reshape(const Tensor& x, const Shape& shape) {
  return Record(x.View(shape), "Reshape", {x}, [x](const Tensor& g, const Tensor&) {
    return std::vector<Tensor>{g.View(x.shape())};
  });
}

Tensor Slice(const Tensor& x, int64_t begin, int64_t end) {
  return Record(x.Narrow(begin, end), "Slice", {x}, [x, begin, end](const Tensor& g, const Tensor&) {
    Tensor gx = Tensor::Zeros(x.shape(), DType::kF32, x.device());
    gx.Narrow(begin, end).CopyFrom(g);
    return std::vector<Tensor>{gx};
  });
}

Tensor Narrow(const Tensor& x, int axis, int64_t begin, int64_t end) {
  const AxisSplit s = SplitAt("Narrow", x.shape(), axis);
  CHECK(0 <= begin && begin <= end && end <= s.n)
      << "Narrow: [" << begin << ", " << end << ") out of range on axis " << axis << " of "
      << ShapeToString(x.shape());
  if (s.outer == 1) {  // leading dim (after size-1 dims): a view of contiguous rows
    return Reshape(Slice(Reshape(x, {s.n, s.inner}), begin, end), [&] {
      Shape out = x.shape();
      out[s.axis] = end - begin;
      return out;
    }());
  }
  return Split(x, {begin, end - begin, s.n - end}, axis)[1];
}

Tensor Concat(const std::vector<Tensor>& xs, int axis) {
  CHECK(!xs.empty()) << "Concat: no inputs";
  const AxisSplit first = SplitAt("Concat", xs[0].shape(), axis);
  Shape out_shape = xs[0].shape();
  int64_t total = 0;
  for (const Tensor& t : xs) {
    CheckF32("Concat", t);
    CheckSameDevice("Concat", xs[0], t);
    Shape probe = t.shape();
    CHECK(probe.size() == out_shape.size()) << "Concat: ranks differ: " << ShapeToString(xs[0].shape()) << " vs "
                                            << ShapeToString(t.shape());
    probe[first.axis] = out_shape[first.axis];
    CHECK(probe == out_shape) << "Concat: shapes " << ShapeToString(xs[0].shape()) << " and "
                              << ShapeToString(t.shape()) << " differ off axis " << axis;
    total += t.dim(first.axis);
  }
  out_shape[first.axis] = total;
  Tensor out = Tensor::Empty(out_shape, DType::kF32, xs[0].device());
  int64_t offset = 0;
  for (const Tensor& t : xs) {
    const int64_t width = t.dim(first.axis) * first.inner;
    CopyRows(F32(out) + offset, total * first.inner, F32(t), width, width, first.outer, OnCuda(t));
    offset += width;
  }
  std::vector<int64_t> sizes;
  for (const Tensor& t : xs) sizes.push_back(t.dim(first.axis));
  return Record(out, "Concat", xs, [sizes, axis](const Tensor& g, const Tensor&) {
    return Split(g, sizes, axis);
  });
}

std::vector<Tensor> Split(const Tensor& x, const std::vector<int64_t>& sizes, int axis) {
  CheckF32("Split", x);
  const AxisSplit s = SplitAt("Split", x.shape(), axis);
  int64_t sum = 0;
  for (int64_t n : sizes) sum += n;
  CHECK_EQ(sum, s.n) << "Split: sizes add up to " << sum << ", axis " << axis << " of "
                     << ShapeToString(x.shape()) << " has " << s.n;
  std::vector<Tensor> outs;
  int64_t offset = 0;
  const int64_t pitch = s.n * s.inner;
  for (size_t k = 0; k < sizes.size(); ++k) {
    Shape shape = x.shape();
    shape[s.axis] = sizes[k];
    Tensor part = Tensor::Empty(shape, DType::kF32, x.device());
    const int64_t width = sizes[k] * s.inner;
    CopyRows(F32(part), width, F32(x) + offset, pitch, width, s.outer, OnCuda(x));
    // Each piece's gradient lands in its own columns of a zero tensor of x's shape.
    outs.push_back(Record(part, "Split", {x}, [x, s, offset, width, pitch](const Tensor& g, const Tensor&) {
      Tensor gx = Tensor::Zeros(x.shape(), DType::kF32, x.device());
      CopyRows(F32(gx) + offset, pitch, F32(g), width, width, s.outer, OnCuda(g));
      return std::vector<Tensor>{gx};
    }));
    offset += width;
  }
  return outs;
}

Tensor TransposeLast2(const Tensor& x) {
  CheckF32("TransposeLast2", x);
  CHECK_GE(x.ndim(), 2) << "TransposeLast2: needs 2+ dims, got " << ShapeToString(x.shape());
  const int64_t rows = x.dim(-2), cols = x.dim(-1);
  const int64_t batch = rows * cols == 0 ? 0 : x.numel() / (rows * cols);
  Shape shape = x.shape();
  std::swap(shape[shape.size() - 1], shape[shape.size() - 2]);
  auto backward = [](const Tensor& g, const Tensor&) { return std::vector<Tensor>{TransposeLast2(g)}; };
  if (OnCuda(x)) {
    Tensor out = Tensor::Empty(shape, DType::kF32, x.device());
    RequireCudaBackend().TransposeLast2(F32(x), F32(out), batch, rows, cols);
    return Record(out, "TransposeLast2", {x}, backward);
  }
  Tensor out = Tensor::Empty(shape);
  const float* px = x.data<float>();
  float* po = out.data<float>();
  constexpr int64_t kTile = 32;  // cache-blocked
#pragma omp parallel for collapse(2) if (x.numel() > (1 << 15))
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t r0 = 0; r0 < rows; r0 += kTile) {
      for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
        for (int64_t r = r0; r < std::min(rows, r0 + kTile); ++r) {
          for (int64_t c = c0; c < std::min(cols, c0 + kTile); ++c) {
            po[b * rows * cols + c * rows + r] = px[b * rows * cols + r * cols + c];
          }
        }
      }
    }
  }
  return Record(out, "TransposeLast2", {x}, backward);
}

Tensor SwapAxes12(const Tensor& x) {
  CheckF32("SwapAxes12", x);
  CHECK_EQ(x.ndim(), 4) << "SwapAxes12: needs [A, B, C, D], got " << ShapeToString(x.shape());
  const int64_t a = x.dim(0), b = x.dim(1), c = x.dim(2), d = x.dim(3);
  Tensor out = Tensor::Empty({a, c, b, d}, DType::kF32, x.device());
  if (OnCuda(x)) {
    // Two transposes, kernels the CUDA side has: [A, B, C*D] -> [A, C*D, B] = [A*C, D, B] -> [A*C, B, D].
    Tensor between = Tensor::Empty({a, c * d, b}, DType::kF32, x.device());
    RequireCudaBackend().TransposeLast2(F32(x), F32(between), a, b, c * d);
    RequireCudaBackend().TransposeLast2(F32(between), F32(out), a * c, d, b);
  } else {
    const float* px = x.data<float>();
    float* po = out.data<float>();
#pragma omp parallel for collapse(2) if (x.numel() > (1 << 15))
    for (int64_t i = 0; i < a; ++i) {
      for (int64_t k = 0; k < c; ++k) {
        for (int64_t j = 0; j < b; ++j) {
          std::memcpy(po + ((i * c + k) * b + j) * d, px + ((i * b + j) * c + k) * d, d * sizeof(float));
        }
      }
    }
  }
  return Record(out, "SwapAxes12", {x}, [](const Tensor& g, const Tensor&) {
    return std::vector<Tensor>{SwapAxes12(g)};
  });
}

}  // namespace onemodel::ops
