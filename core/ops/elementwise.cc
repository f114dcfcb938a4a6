#include "core/ops/elementwise.h"

#include "core/autograd.h"
#include "core/ops/axis.h"
#include "core/cuda_backend.h"

namespace onemodel::ops {
namespace {

constexpr int64_t kParallelGrain = 1 << 15;

bool IsSuffix(const Shape& shorter, const Shape& longer) {
  if (shorter.size() > longer.size()) return false;
  return std::equal(shorter.begin(), shorter.end(), longer.end() - shorter.size());
}

// out[i] = f(a[.], b[.]) with the shorter operand repeating over the longer one's leading dims.
template <typename F>
Tensor Broadcast(const char* op, const Tensor& a, const Tensor& b, F f) {
  CheckCpuF32(op, a);
  CheckCpuF32(op, b);
  const bool a_long = IsSuffix(b.shape(), a.shape());
  CHECK(a_long || IsSuffix(a.shape(), b.shape()))
      << op << ": shapes " << ShapeToString(a.shape()) << " and " << ShapeToString(b.shape())
      << " do not broadcast (one must be a suffix of the other)";
  const Tensor& longer = a_long ? a : b;
  const int64_t n = longer.numel();
  const int64_t inner = (a_long ? b : a).numel();
  Tensor out = Tensor::Empty(longer.shape());
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
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

}  // namespace

Tensor SumToShape(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  CHECK(IsSuffix(shape, x.shape())) << "SumToShape: " << ShapeToString(shape) << " is not a suffix of "
                                    << ShapeToString(x.shape());
  CheckCpuF32("SumToShape", x);
  const int64_t inner = NumElements(shape);
  const int64_t outer = inner == 0 ? 0 : x.numel() / inner;
  Tensor out = Tensor::Zeros(shape);
  const float* px = x.data<float>();
  float* po = out.data<float>();
  // Parallel over the kept elements, serial over the summed rows: deterministic and race-free.
#pragma omp parallel for if (x.numel() > kParallelGrain)
  for (int64_t i = 0; i < inner; ++i) {
    float acc = 0.f;
    for (int64_t o = 0; o < outer; ++o) acc += px[o * inner + i];
    po[i] = acc;
  }
  return out;
}

Tensor Add(const Tensor& a, const Tensor& b) {
  Tensor out = Broadcast("Add", a, b, [](float x, float y) { return x + y; });
  return Record(out, "Add", {a, b}, [a, b](const Tensor& g, const Tensor&) {
    return std::vector<Tensor>{SumToShape(g, a.shape()), SumToShape(g, b.shape())};
  });
}

Tensor Sub(const Tensor& a, const Tensor& b) {
  Tensor out = Broadcast("Sub", a, b, [](float x, float y) { return x - y; });
  return Record(out, "Sub", {a, b}, [a, b](const Tensor& g, const Tensor&) {
    return std::vector<Tensor>{SumToShape(g, a.shape()), Scale(SumToShape(g, b.shape()), -1.f)};
  });
}

Tensor Mul(const Tensor& a, const Tensor& b) {
  Tensor out = Broadcast("Mul", a, b, [](float x, float y) { return x * y; });
  return Record(out, "Mul", {a, b}, [a, b](const Tensor& g, const Tensor&) {
    Tensor ga, gb;
    if (a.requires_grad()) ga = SumToShape(Mul(g, b), a.shape());
    if (b.requires_grad()) gb = SumToShape(Mul(g, a), b.shape());
    return std::vector<Tensor>{ga, gb};
  });
}

Tensor Div(const Tensor& a, const Tensor& b) {
  Tensor out = Broadcast("Div", a, b, [](float x, float y) { return x / y; });
  return Record(out, "Div", {a, b}, [a, b](const Tensor& g, const Tensor& out) {
    Tensor ga, gb;
    if (a.requires_grad()) ga = SumToShape(Div(g, b), a.shape());
    // d(a/b)/db = -(a/b)/b = -out/b.
    if (b.requires_grad()) gb = Scale(SumToShape(Div(Mul(g, out), b), b.shape()), -1.f);
    return std::vector<Tensor>{ga, gb};
  });
}

Tensor Scale(const Tensor& x, float factor) {
  Tensor out = Broadcast("Scale", x, Tensor::Scalar(factor), [](float v, float s) { return v * s; });
  return Record(out, "Scale", {x}, [factor](const Tensor& g, const Tensor&) {
    return std::vector<Tensor>{Scale(g, factor)};
  });
}

Tensor AddScalar(const Tensor& x, float value) {
  Tensor out = Broadcast("AddScalar", x, Tensor::Scalar(value), [](float v, float s) { return v + s; });
  return Record(out, "AddScalar", {x}, [](const Tensor& g, const Tensor&) { return std::vector<Tensor>{g}; });
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
