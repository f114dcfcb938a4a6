#include "core/ops/softmax.h"

#include <cmath>

#include "core/autograd.h"
#include "core/ops/axis.h"
#include "core/ops/unary_math.h"

namespace onemodel::ops {
namespace {

float RowMax(const float* in, int64_t n) {
  float m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (int64_t j = 0; j < n; ++j) m = in[j] > m ? in[j] : m;
  return m;
}

// Runs fn(row_index) for every row of a [rows, n] view, in parallel when the work is large.
template <typename Fn>
void ForEachRow(int64_t rows, int64_t n, Fn fn) {
#pragma omp parallel for if (rows * n > (1 << 14))
  for (int64_t r = 0; r < rows; ++r) fn(r);
}

}  // namespace

void LogSoftmaxRow(const float* in, float* out, int64_t n) {
  const float m = RowMax(in, n);
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; ++j) sum += ExpF(in[j] - m);
  const float log_z = m + std::log(sum);
  for (int64_t j = 0; j < n; ++j) out[j] = in[j] - log_z;
}

// Both softmax flavours on CUDA: one kernel each way.
Tensor SoftmaxCuda(const Tensor& x, bool log, int64_t rows, int64_t n) {
  Tensor out = Tensor::Empty(x.shape(), DType::kF32, x.device());
  RequireCudaBackend().SoftmaxForward(F32(x), F32(out), rows, n, log);
  return Record(out, log ? "LogSoftmax" : "Softmax", {x}, [log, rows, n](const Tensor& g, const Tensor& y) {
    Tensor gx = Tensor::Empty(y.shape(), DType::kF32, y.device());
    RequireCudaBackend().SoftmaxBackward(F32(y), F32(g), F32(gx), rows, n, log);
    return std::vector<Tensor>{gx};
  });
}

Tensor Softmax(const Tensor& x) {
  CheckF32("Softmax", x);
  const int64_t n = x.ndim() == 0 ? 1 : x.dim(-1);
  const int64_t rows = n == 0 ? 0 : x.numel() / n;
  if (OnCuda(x)) return SoftmaxCuda(x, false, rows, n);
  Tensor out = Tensor::Empty(x.shape());
  const float* px = x.data<float>();
  float* po = out.data<float>();
  ForEachRow(rows, n, [&](int64_t r) {
    const float* in = px + r * n;
    float* o = po + r * n;
    const float m = RowMax(in, n);
    float sum = 0.f;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < n; ++j) sum += (o[j] = ExpF(in[j] - m));
    const float inv = 1.f / sum;
    for (int64_t j = 0; j < n; ++j) o[j] *= inv;
  });
  return Record(out, "Softmax", {x}, [n, rows](const Tensor& g, const Tensor& y) {
    Tensor gx = Tensor::Empty(y.shape());
    const float* pg = g.data<float>();
    const float* py = y.data<float>();
    float* pgx = gx.data<float>();
    // dx = y * (g - <g, y>)
    ForEachRow(rows, n, [&](int64_t r) {
      const float* gr = pg + r * n;
      const float* yr = py + r * n;
      float dot = 0.f;
#pragma omp simd reduction(+ : dot)
      for (int64_t j = 0; j < n; ++j) dot += gr[j] * yr[j];
      for (int64_t j = 0; j < n; ++j) pgx[r * n + j] = yr[j] * (gr[j] - dot);
    });
    return std::vector<Tensor>{gx};
  });
}

Tensor LogSoftmax(const Tensor& x) {
  CheckF32("LogSoftmax", x);
  const int64_t n = x.ndim() == 0 ? 1 : x.dim(-1);
  const int64_t rows = n == 0 ? 0 : x.numel() / n;
  if (OnCuda(x)) return SoftmaxCuda(x, true, rows, n);
  Tensor out = Tensor::Empty(x.shape());
  const float* px = x.data<float>();
  float* po = out.data<float>();
  ForEachRow(rows, n, [&](int64_t r) { LogSoftmaxRow(px + r * n, po + r * n, n); });
  return Record(out, "LogSoftmax", {x}, [n, rows](const Tensor& g, const Tensor& y) {
    Tensor gx = Tensor::Empty(y.shape());
    const float* pg = g.data<float>();
    const float* py = y.data<float>();
    float* pgx = gx.data<float>();
    // dx = g - softmax * sum(g)
    ForEachRow(rows, n, [&](int64_t r) {
      float sum = 0.f;
#pragma omp simd reduction(+ : sum)
      for (int64_t j = 0; j < n; ++j) sum += pg[r * n + j];
      for (int64_t j = 0; j < n; ++j) pgx[r * n + j] = pg[r * n + j] - ExpF(py[r * n + j]) * sum;
    });
    return std::vector<Tensor>{gx};
  });
}

}  // namespace onemodel::ops
