// Views a tensor as [outer, n, inner] around one axis: the index arithmetic every axis op shares.
#ifndef ONEMODEL_CORE_OPS_AXIS_H_
#define ONEMODEL_CORE_OPS_AXIS_H_

#include "core/cuda_backend.h"
#include "core/tensor.h"

namespace onemodel::ops {

struct AxisSplit {
  int axis;  // normalized, non-negative
  int64_t outer, n, inner;
};

inline AxisSplit SplitAt(const char* op, const Shape& shape, int axis) {
  const int nd = static_cast<int>(shape.size());
  const int a = axis < 0 ? axis + nd : axis;
  CHECK(a >= 0 && a < nd) << op << ": axis " << axis << " out of range for shape " << ShapeToString(shape);
  AxisSplit s{a, 1, shape[a], 1};
  for (int i = 0; i < a; ++i) s.outer *= shape[i];
  for (int i = a + 1; i < nd; ++i) s.inner *= shape[i];
  return s;
}

// The shape with `axis` removed (keepdim = false) or set to 1 (keepdim = true).
inline Shape ReducedShape(const Shape& shape, int axis, bool keepdim) {
  Shape out = shape;
  if (keepdim) {
    out[axis] = 1;
  } else {
    out.erase(out.begin() + axis);
  }
  return out;
}

inline void CheckCpuF32(const char* op, const Tensor& t) {
  CHECK(t.defined()) << op << ": undefined input";
  CHECK(t.dtype() == DType::kF32) << op << ": expects f32, got " << DTypeName(t.dtype());
  CHECK(t.device().is_cpu()) << op << ": no CUDA kernel yet (tensor on " << t.device().ToString() << ")";
}

// Device-agnostic access for ops that also run on CUDA: f32 check, raw pointer.
inline void CheckF32(const char* op, const Tensor& t) {
  CHECK(t.defined()) << op << ": undefined input";
  CHECK(t.dtype() == DType::kF32) << op << ": expects f32, got " << DTypeName(t.dtype());
}
inline float* F32(const Tensor& t) { return static_cast<float*>(t.raw_data()); }
inline bool OnCuda(const Tensor& t) { return !t.device().is_cpu(); }
inline void CheckSameDevice(const char* op, const Tensor& a, const Tensor& b) {
  CHECK(a.device() == b.device()) << op << ": inputs on " << a.device().ToString() << " and "
                                  << b.device().ToString();
}

inline void CheckIndices(const char* op, const Tensor& t) {
  CHECK(t.defined() && t.dtype() == DType::kI64 && t.device().is_cpu())
      << op << ": indices must be an i64 CPU tensor";
}

}  // namespace onemodel::ops

#endif  // ONEMODEL_CORE_OPS_AXIS_H_
