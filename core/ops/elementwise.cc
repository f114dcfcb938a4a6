#include "core/ops/elementwise.h"

#include <algorithm>
#include <vector>

#include "core/autograd.h"
#include "core/ops/axis.h"
#include "core/cuda_backend.h"

namespace onemodel::ops {
namespace {

constexpr int64_t kParallelGrain = 1 << 15;

// `shorter` repeats over the leading dims of `longer`. Its own leading 1s count as absent: [1, 1, d] repeats over
// [b, 1, d] as [d] does.
bool IsSuffix(const Shape& shorter, const Shape& longer) {
  if (shorter.size() > longer.size()) return false;
  size_t ones = 0;
  while (ones < shorter.size() && shorter[ones] == 1) ++ones;
  return std::equal(shorter.begin() + ones, shorter.end(), longer.end() - (shorter.size() - ones));
}

// Numpy broadcasting: shapes aligned from the right; each dim pair equal or one of them 1.
Shape BroadcastShape(const char* op, const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    CHECK(da == db || da == 1 || db == 1)
        << op << ": shapes " << ShapeToString(a) << " and " << ShapeToString(b)
        << " do not broadcast (aligned from the right, dims must match or be 1)";
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Element strides of `shape` seen as `out` (rank-aligned), 0 along broadcast dims.
std::vector<int64_t> BroadcastStrides(const Shape& shape, const Shape& out) {
  std::vector<int64_t> strides(out.size(), 0);
  int64_t stride = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    const size_t d = shape.size() - 1 - i, o = out.size() - 1 - i;
    strides[o] = shape[d] == 1 ? 0 : stride;
    stride *= shape[d];
  }
  return strides;
}

// Calls fn(out_index, a_offset, b_offset) for every element of `out` (the general, strided path).
template <typename Fn>
void ForEachBroadcast(const Shape& out, const std::vector<int64_t>& sa, const std::vector<int64_t>& sb, Fn fn) {
  const int64_t n = NumElements(out);
  std::vector<int64_t> counter(out.size(), 0);
  int64_t oa = 0, ob = 0;
  for (int64_t i = 0; i < n; ++i) {
    fn(i, oa, ob);
    for (int d = static_cast<int>(out.size()) - 1; d >= 0; --d) {
      oa += sa[d];
      ob += sb[d];
      if (++counter[d] < out[d]) break;
      oa -= sa[d] * out[d];
      ob -= sb[d] * out[d];
      counter[d] = 0;
    }
  }
}

// One row of a broadcast op: each side advances along the row (x[i]) or repeats its first value, so every case is
// a plain loop that vectorizes.
template <typename F>
inline void ApplyRow(float* __restrict o, const float* __restrict x, bool x_moves, const float* __restrict y,
                     bool y_moves, int64_t width, F f) {
  if (x_moves && y_moves) {
#pragma omp simd
    for (int64_t i = 0; i < width; ++i) o[i] = f(x[i], y[i]);
  } else if (x_moves) {
    const float v = y[0];
#pragma omp simd
    for (int64_t i = 0; i < width; ++i) o[i] = f(x[i], v);
  } else if (y_moves) {
    const float v = x[0];
#pragma omp simd
    for (int64_t i = 0; i < width; ++i) o[i] = f(v, y[i]);
  } else {
    std::fill(o, o + width, f(x[0], y[0]));
  }
}

// General numpy broadcasting a row (the last dim) at a time: along it each operand advances (stride 1) or repeats
// (stride 0); rows run in parallel, each finding its operands' offsets from its index. `out` has at least one dim
// (a scalar operand takes the suffix path). (Attention's padding mask, [B, Tq, Tk] + [B, 1, Tk], comes here.)
template <typename F>
void BroadcastRows(const Shape& out, const std::vector<int64_t>& sa, const std::vector<int64_t>& sb, const float* pa,
                   const float* pb, float* po, F f) {
  const int64_t n = NumElements(out);
  if (n == 0) return;
  const int outer_dims = static_cast<int>(out.size()) - 1;
  const int64_t width = out.back(), rows = n / width;
  const bool a_moves = sa.back() != 0, b_moves = sb.back() != 0;
#pragma omp parallel for if (n > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    int64_t rest = r, ia = 0, ib = 0;
    for (int d = outer_dims - 1; d >= 0; --d) {
      const int64_t coordinate = rest % out[d];
      rest /= out[d];
      ia += coordinate * sa[d];
      ib += coordinate * sb[d];
    }
    ApplyRow(po + r * width, pa + ia, a_moves, pb + ib, b_moves, width, f);
  }
}

// Number of leading elements ("rows") when `small` is `big` with its trailing dims set to 1 (a per-row
// value such as gates [A, 1] against rows [A, d]); 0 when it is not of that form.
int64_t PerRowCount(const Shape& small, const Shape& big) {
  if (small.size() != big.size() || small == big) return 0;
  size_t split = 0;
  while (split < small.size() && small[split] == big[split]) ++split;
  for (size_t i = split; i < small.size(); ++i) {
    if (small[i] != 1) return 0;
  }
  return NumElements(small);
}

// The strided layout of x's elements (shape `full`, strides of x or 0 where it repeats) for the CUDA kernels.
CudaBackend::Strided StridedLayout(const char* op, const Shape& full, const std::vector<int64_t>& a_stride,
                                   const std::vector<int64_t>& b_stride) {
  CHECK_LE(full.size(), static_cast<size_t>(CudaBackend::kMaxDims))
      << op << ": broadcasting over " << full.size() << " dims on CUDA (at most " << CudaBackend::kMaxDims << ")";
  CudaBackend::Strided s{static_cast<int>(full.size()), {}, {}, {}};
  for (size_t d = 0; d < full.size(); ++d) {
    s.shape[d] = full[d];
    s.a_stride[d] = a_stride[d];
    s.b_stride[d] = b_stride[d];
  }
  return s;
}

// The CUDA side of Broadcast: the fast patterns as one strided kernel, anything else through the general one.
Tensor BroadcastCuda(const char* op, BinaryKind kind, const Tensor& a, const Tensor& b) {
  const int64_t rows_b = PerRowCount(b.shape(), a.shape()), rows_a = PerRowCount(a.shape(), b.shape());
  const bool a_long = IsSuffix(b.shape(), a.shape()) || rows_b > 0;
  if (!a_long && !IsSuffix(a.shape(), b.shape()) && rows_a == 0) {
    const Shape shape = BroadcastShape(op, a.shape(), b.shape());
    Tensor out = Tensor::Empty(shape, DType::kF32, a.device());
    RequireCudaBackend().BroadcastBinary(
        kind, F32(a), F32(b), F32(out),
        StridedLayout(op, shape, BroadcastStrides(a.shape(), shape), BroadcastStrides(b.shape(), shape)));
    return out;
  }
  const Tensor& full = a_long ? a : b;
  const Tensor& small = a_long ? b : a;
  const int64_t n = full.numel(), rows = a_long ? rows_b : rows_a;
  Tensor out = Tensor::Empty(full.shape(), DType::kF32, full.device());
  const CudaBackend::Operand whole{F32(full), 1, std::max<int64_t>(n, 1)};
  const CudaBackend::Operand part = rows > 0 ? CudaBackend::Operand{F32(small), n / rows, rows}
                                             : CudaBackend::Operand{F32(small), 1, std::max<int64_t>(small.numel(), 1)};
  RequireCudaBackend().Binary(kind, a_long ? whole : part, a_long ? part : whole, F32(out), n);
  return out;
}

// out[i] = f(a[.], b[.]). Fast paths: one shape a suffix of the other (bias, scalar), or one a per-row value
// of the other ([A, 1] against [A, d]); otherwise general numpy broadcasting.
template <typename F>
Tensor Broadcast(const char* op, const Tensor& a, const Tensor& b, F f, BinaryKind kind) {
  CheckF32(op, a);
  CheckF32(op, b);
  CheckSameDevice(op, a, b);
  if (OnCuda(a)) return BroadcastCuda(op, kind, a, b);
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  if (a.shape() == b.shape()) {  // the common case (residual connections): one flat loop over both threads
    Tensor out = Tensor::Empty(a.shape());
    float* po = out.data<float>();
    const int64_t n = a.numel();
#pragma omp parallel for simd if (n > kParallelGrain)
    for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i]);
    return out;
  }
  const int64_t rows_b = PerRowCount(b.shape(), a.shape()), rows_a = PerRowCount(a.shape(), b.shape());
  if (rows_a > 0 || rows_b > 0) {
    const bool b_per_row = rows_b > 0;
    const Tensor& full = b_per_row ? a : b;
    const int64_t rows = b_per_row ? rows_b : rows_a, width = full.numel() / rows;
    Tensor out = Tensor::Empty(full.shape());
    float* po = out.data<float>();
#pragma omp parallel for if (full.numel() > kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      if (b_per_row) {
        ApplyRow(po + r * width, pa + r * width, true, pb + r, false, width, f);
      } else {
        ApplyRow(po + r * width, pa + r, false, pb + r * width, true, width, f);
      }
    }
    return out;
  }
  const bool a_long = IsSuffix(b.shape(), a.shape());
  if (!a_long && !IsSuffix(a.shape(), b.shape())) {
    const Shape shape = BroadcastShape(op, a.shape(), b.shape());
    Tensor out = Tensor::Empty(shape);
    BroadcastRows(shape, BroadcastStrides(a.shape(), shape), BroadcastStrides(b.shape(), shape), pa, pb,
                  out.data<float>(), f);
    return out;
  }
  const Tensor& longer = a_long ? a : b;
  const int64_t n = longer.numel();
  const int64_t inner = (a_long ? b : a).numel();
  Tensor out = Tensor::Empty(longer.shape());
  float* po = out.data<float>();
  if (inner == 0) return out;
  const int64_t outer = n / inner;
#pragma omp parallel for if (n > kParallelGrain)
  for (int64_t o = 0; o < outer; ++o) {
    const int64_t base = o * inner;
    if (a_long) {
      for (int64_t i = 0; i < inner; ++i) po[base + i] = f(pa[base + i], pb[i]);
    } else {
      for (int64_t i = 0; i < inner; ++i) po[base + i] = f(pa[i], pb[base + i]);
    }
  }
  return out;
}

// Plain functions with restrict pointers (not lambdas capturing by reference) so the loops vectorize.
template <UnaryKind K>
void UnaryForwardLoop(const float* __restrict x, float* __restrict y, int64_t n) {
#pragma omp parallel for simd if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) y[i] = UnaryForward<K>(x[i]);
}

template <UnaryKind K>
void UnaryBackwardLoop(const float* __restrict x, const float* __restrict y, const float* __restrict gy,
                       float* __restrict gx, int64_t n) {
#pragma omp parallel for simd if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] * UnaryDerivative<K>(x[i], y[i]);
}

Tensor Affine(const Tensor& x, float scale, float shift);

}  // namespace

Tensor LengthMask(const std::vector<int64_t>& lengths, int64_t width, Device device) {
  const int64_t b = static_cast<int64_t>(lengths.size());
  std::vector<float> mask(b * width, 0.f);
  for (int64_t i = 0; i < b; ++i) std::fill_n(mask.begin() + i * width, std::min(lengths[i], width), 1.f);
  return Tensor::FromVector(mask, {b, width}).To(device);
}

Tensor SumToShape(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  CheckF32("SumToShape", x);
  if (OnCuda(x)) {
    Tensor out = Tensor::Empty(shape, DType::kF32, x.device());
    const int64_t small = NumElements(shape);
    if (const int64_t rows = PerRowCount(shape, x.shape()); rows > 0) {
      RequireCudaBackend().ReduceAxis(F32(x), F32(out), rows, x.numel() / rows, 1, 1.f);
    } else if (IsSuffix(shape, x.shape())) {
      RequireCudaBackend().ReduceAxis(F32(x), F32(out), 1, small == 0 ? 0 : x.numel() / small, small, 1.f);
    } else {
      CHECK(BroadcastShape("SumToShape", shape, x.shape()) == x.shape())
          << "SumToShape: " << ShapeToString(shape) << " does not broadcast to " << ShapeToString(x.shape());
      const CudaBackend::Strided layout = StridedLayout("SumToShape", x.shape(), BroadcastStrides(x.shape(), x.shape()),
                                                        BroadcastStrides(shape, x.shape()));
      RequireCudaBackend().SumOverBroadcast(F32(x), F32(out), layout);
    }
    return out;
  }
  const float* px = x.data<float>();
  if (const int64_t rows = PerRowCount(shape, x.shape()); rows > 0) {  // per-row sums
    const int64_t width = x.numel() / rows;
    Tensor out = Tensor::Empty(shape);
    float* po = out.data<float>();
#pragma omp parallel for if (x.numel() > kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      float acc = 0.f;
#pragma omp simd reduction(+ : acc)
      for (int64_t i = 0; i < width; ++i) acc += px[r * width + i];
      po[r] = acc;
    }
    return out;
  }
  if (!IsSuffix(shape, x.shape())) {  // general case: sum over the dims that were broadcast
    CHECK(BroadcastShape("SumToShape", shape, x.shape()) == x.shape())
        << "SumToShape: " << ShapeToString(shape) << " does not broadcast to " << ShapeToString(x.shape());
    Tensor out = Tensor::Zeros(shape);
    float* po = out.data<float>();
    const std::vector<int64_t> none(x.ndim(), 0);
    ForEachBroadcast(x.shape(), BroadcastStrides(shape, x.shape()), none,
                     [&](int64_t i, int64_t io, int64_t) { po[io] += px[i]; });
    return out;
  }
  const int64_t inner = NumElements(shape);
  const int64_t outer = inner == 0 ? 0 : x.numel() / inner;
  Tensor out = Tensor::Zeros(shape);
  float* po = out.data<float>();
  // Rows summed in a fixed number of contiguous chunks (row-wise, vectorized), then the chunk sums in order:
  // deterministic for any thread count, and cache-friendly for a bias gradient over many rows.
  constexpr int64_t kChunks = 16;
  const int64_t chunks = std::min(kChunks, std::max<int64_t>(outer, 1));
  std::vector<float> partial(chunks * inner, 0.f);
#pragma omp parallel for if (x.numel() > kParallelGrain)
  for (int64_t c = 0; c < chunks; ++c) {
    float* acc = partial.data() + c * inner;
    for (int64_t o = c * outer / chunks; o < (c + 1) * outer / chunks; ++o) {
      const float* row = px + o * inner;
#pragma omp simd
      for (int64_t i = 0; i < inner; ++i) acc[i] += row[i];
    }
  }
  for (int64_t c = 0; c < chunks; ++c) {
    for (int64_t i = 0; i < inner; ++i) po[i] += partial[c * inner + i];
  }
  return out;
}

// Gradients only for the inputs that want one: a constant operand (an attention mask) costs no reduction.
Tensor Add(const Tensor& a, const Tensor& b) {
  Tensor out = Broadcast("Add", a, b, [](float x, float y) { return x + y; }, BinaryKind::kAdd);
  return Record(out, "Add", {a, b}, [a, b](const Tensor& g, const Tensor&) {
    Tensor ga, gb;
    if (a.requires_grad()) ga = SumToShape(g, a.shape());
    if (b.requires_grad()) gb = SumToShape(g, b.shape());
    return std::vector<Tensor>{ga, gb};
  });
}

Tensor Sub(const Tensor& a, const Tensor& b) {
  Tensor out = Broadcast("Sub", a, b, [](float x, float y) { return x - y; }, BinaryKind::kSub);
  return Record(out, "Sub", {a, b}, [a, b](const Tensor& g, const Tensor&) {
    Tensor ga, gb;
    if (a.requires_grad()) ga = SumToShape(g, a.shape());
    if (b.requires_grad()) gb = Scale(SumToShape(g, b.shape()), -1.f);
    return std::vector<Tensor>{ga, gb};
  });
}

Tensor Mul(const Tensor& a, const Tensor& b) {
  Tensor out = Broadcast("Mul", a, b, [](float x, float y) { return x * y; }, BinaryKind::kMul);
  return Record(out, "Mul", {a, b}, [a, b](const Tensor& g, const Tensor&) {
    Tensor ga, gb;
    if (a.requires_grad()) ga = SumToShape(Mul(g, b), a.shape());
    if (b.requires_grad()) gb = SumToShape(Mul(g, a), b.shape());
    return std::vector<Tensor>{ga, gb};
  });
}

Tensor Div(const Tensor& a, const Tensor& b) {
  Tensor out = Broadcast("Div", a, b, [](float x, float y) { return x / y; }, BinaryKind::kDiv);
  return Record(out, "Div", {a, b}, [a, b](const Tensor& g, const Tensor& out) {
    Tensor ga, gb;
    if (a.requires_grad()) ga = SumToShape(Div(g, b), a.shape());
    // d(a/b)/db = -(a/b)/b = -out/b.
    if (b.requires_grad()) gb = Scale(SumToShape(Div(Mul(g, out), b), b.shape()), -1.f);
    return std::vector<Tensor>{ga, gb};
  });
}

// x * scale + shift, on either device.
namespace {
Tensor Affine(const Tensor& x, float scale, float shift) {
  CheckF32("Affine", x);
  Tensor out = Tensor::Empty(x.shape(), DType::kF32, x.device());
  if (OnCuda(x)) {
    RequireCudaBackend().ScaleShift(F32(x), F32(out), x.numel(), scale, shift);
    return out;
  }
  const float* px = x.data<float>();
  float* po = out.data<float>();
  const int64_t n = x.numel();
#pragma omp parallel for simd if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) po[i] = px[i] * scale + shift;
  return out;
}
}  // namespace

Tensor Scale(const Tensor& x, float factor) {
  return Record(Affine(x, factor, 0.f), "Scale", {x}, [factor](const Tensor& g, const Tensor&) {
    return std::vector<Tensor>{Scale(g, factor)};
  });
}

Tensor AddScalar(const Tensor& x, float value) {
  return Record(Affine(x, 1.f, value), "AddScalar", {x}, [](const Tensor& g, const Tensor&) {
    return std::vector<Tensor>{g};
  });
}

Tensor BiasAdd(const Tensor& x, const Tensor& bias) {
  CHECK(bias.ndim() == 1 && x.ndim() >= 1 && bias.dim(0) == x.dim(-1))
      << "BiasAdd: bias " << ShapeToString(bias.shape()) << " does not match the last dim of "
      << ShapeToString(x.shape());
  return Add(x, bias);
}

Tensor Unary(const Tensor& x, UnaryKind kind) {
  CHECK(x.defined() && x.dtype() == DType::kF32) << "Unary: expects a defined f32 tensor";
  Tensor out = Tensor::Empty(x.shape(), DType::kF32, x.device());
  const int64_t n = x.numel();
  if (!x.device().is_cpu()) {
    RequireCudaBackend().UnaryForward(kind, static_cast<const float*>(x.raw_data()),
                                      static_cast<float*>(out.raw_data()), n);
  } else {
    const float* px = x.data<float>();
    float* po = out.data<float>();
    DispatchUnary(kind, [&](auto k) { UnaryForwardLoop<decltype(k)::value>(px, po, n); });
  }
  return Record(out, "Unary", {x}, [x, kind](const Tensor& g, const Tensor& y) {
    Tensor gx = Tensor::Empty(x.shape(), DType::kF32, x.device());
    const int64_t n = x.numel();
    if (!x.device().is_cpu()) {
      RequireCudaBackend().UnaryBackward(kind, static_cast<const float*>(x.raw_data()),
                                         static_cast<const float*>(y.raw_data()),
                                         static_cast<const float*>(g.raw_data()),
                                         static_cast<float*>(gx.raw_data()), n);
    } else {
      const float* px = x.data<float>();
      const float* py = y.data<float>();
      const float* pg = g.data<float>();
      float* pgx = gx.data<float>();
      DispatchUnary(kind, [&](auto k) { UnaryBackwardLoop<decltype(k)::value>(px, py, pg, pgx, n); });
    }
    return std::vector<Tensor>{gx};
  });
}

}  // namespace onemodel::ops
