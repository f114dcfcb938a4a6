#include "core/ops/indexing.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "core/autograd.h"
#include "core/ops/axis.h"
#include "core/ops/shape.h"

namespace onemodel::ops {
namespace {

void CheckRange(const char* op, const int64_t* idx, int64_t n, int64_t bound) {
  for (int64_t i = 0; i < n; ++i) {
    CHECK(idx[i] >= 0 && idx[i] < bound) << op << ": index " << idx[i] << " at position " << i << " outside [0, "
                                         << bound << ")";
  }
}

int64_t RowSize(const Tensor& x) { return x.ndim() == 0 || x.dim(0) == 0 ? 0 : x.numel() / x.dim(0); }

}  // namespace

Tensor IndexSelect(const Tensor& x, const Tensor& index) {
  CheckCpuF32("IndexSelect", x);
  CheckIndices("IndexSelect", index);
  CHECK(x.ndim() >= 1 && index.ndim() == 1) << "IndexSelect: x " << ShapeToString(x.shape()) << ", index "
                                            << ShapeToString(index.shape()) << " (needs x [N, ...], index [M])";
  const int64_t m = index.dim(0), row = RowSize(x);
  const int64_t* pi = index.data<int64_t>();
  CheckRange("IndexSelect", pi, m, x.dim(0));
  Shape shape = x.shape();
  shape[0] = m;
  Tensor out = Tensor::Empty(shape);
  const float* px = x.data<float>();
  float* po = out.data<float>();
#pragma omp parallel for if (m * row > (1 << 15))
  for (int64_t i = 0; i < m; ++i) std::memcpy(po + i * row, px + pi[i] * row, row * sizeof(float));
  return Record(out, "IndexSelect", {x}, [x, index](const Tensor& g, const Tensor&) {
    return std::vector<Tensor>{ScatterAddRows(g, index, x.dim(0))};
  });
}

Tensor ScatterAddRows(const Tensor& src, const Tensor& index, int64_t num_rows) {
  CheckCpuF32("ScatterAddRows", src);
  CheckIndices("ScatterAddRows", index);
  CHECK(src.ndim() >= 1 && index.shape() == Shape{src.dim(0)})
      << "ScatterAddRows: src " << ShapeToString(src.shape()) << ", index " << ShapeToString(index.shape())
      << " (needs src [M, ...], index [M])";
  const int64_t m = index.dim(0), row = RowSize(src);
  const int64_t* pi = index.data<int64_t>();
  CheckRange("ScatterAddRows", pi, m, num_rows);
  Shape shape = src.shape();
  shape[0] = num_rows;
  Tensor out = Tensor::Zeros(shape);
  const float* ps = src.data<float>();
  float* po = out.data<float>();
  // Parallel over column blocks: each output element is summed by one thread in source order
  // (deterministic), and each thread still reads contiguous runs of a row.
  constexpr int64_t kBlock = 64;
#pragma omp parallel for if (m * row > (1 << 15))
  for (int64_t c0 = 0; c0 < row; c0 += kBlock) {
    const int64_t c1 = std::min(row, c0 + kBlock);
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t c = c0; c < c1; ++c) po[pi[i] * row + c] += ps[i * row + c];
    }
  }
  return Record(out, "ScatterAddRows", {src}, [index](const Tensor& g, const Tensor&) {
    return std::vector<Tensor>{IndexSelect(g, index)};
  });
}

Tensor GatherLastDim(const Tensor& x, const Tensor& index) {
  CheckCpuF32("GatherLastDim", x);
  CheckIndices("GatherLastDim", index);
  CHECK(x.ndim() >= 1 && index.ndim() == x.ndim() &&
        std::equal(x.shape().begin(), x.shape().end() - 1, index.shape().begin()))
      << "GatherLastDim: x " << ShapeToString(x.shape()) << ", index " << ShapeToString(index.shape())
      << " must agree on all but the last dim";
  const int64_t n = x.dim(-1), k = index.dim(-1);
  const int64_t rows = k == 0 ? 0 : index.numel() / k;
  const int64_t* pi = index.data<int64_t>();
  CheckRange("GatherLastDim", pi, index.numel(), n);
  Tensor out = Tensor::Empty(index.shape());
  const float* px = x.data<float>();
  float* po = out.data<float>();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < k; ++j) po[r * k + j] = px[r * n + pi[r * k + j]];
  }
  return Record(out, "GatherLastDim", {x}, [x, index, rows, n, k](const Tensor& g, const Tensor&) {
    Tensor gx = Tensor::Zeros(x.shape());
    const int64_t* pi = index.data<int64_t>();
    const float* pg = g.data<float>();
    float* pgx = gx.data<float>();
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < k; ++j) pgx[r * n + pi[r * k + j]] += pg[r * k + j];
    }
    return std::vector<Tensor>{gx};
  });
}

TopKResult TopK(const Tensor& x, int64_t k) {
  CheckCpuF32("TopK", x);
  CHECK_GE(x.ndim(), 1) << "TopK of a scalar";
  const int64_t n = x.dim(-1);
  CHECK(k >= 1 && k <= n) << "TopK: k = " << k << " for a last dim of " << n;
  const int64_t rows = n == 0 ? 0 : x.numel() / n;
  Shape shape = x.shape();
  shape.back() = k;
  Tensor indices = Tensor::Empty(shape, DType::kI64);
  const float* px = x.data<float>();
  int64_t* pi = indices.data<int64_t>();
#pragma omp parallel for if (x.numel() > (1 << 15))
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = px + r * n;
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [xr](int64_t a, int64_t b) { return xr[a] > xr[b] || (xr[a] == xr[b] && a < b); });
    std::copy(order.begin(), order.begin() + k, pi + r * k);
  }
  return {GatherLastDim(x, indices), indices};
}

Tensor Embedding(const Tensor& table, const Tensor& ids) {
  CHECK_EQ(table.ndim(), 2) << "Embedding: table must be [V, D], got " << ShapeToString(table.shape());
  Shape shape = ids.shape();
  shape.push_back(table.dim(1));
  return Reshape(IndexSelect(table, ids.View({-1})), shape);
}

}  // namespace onemodel::ops
