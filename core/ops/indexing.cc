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

// Sources of each destination row, ascending (a counting sort of the index): lets the scatter run in
// parallel over destination rows, each summed by one thread in source order (deterministic), reading
// whole contiguous rows.
namespace {

struct RowsByDestination {
  std::vector<int64_t> start;   // [num_rows + 1]
  std::vector<int64_t> source;  // [M]
};

RowsByDestination GroupByDestination(const int64_t* index, int64_t m, int64_t num_rows) {
  RowsByDestination g;
  g.start.assign(num_rows + 1, 0);
  for (int64_t i = 0; i < m; ++i) ++g.start[index[i] + 1];
  for (int64_t r = 0; r < num_rows; ++r) g.start[r + 1] += g.start[r];
  std::vector<int64_t> next(g.start.begin(), g.start.end() - 1);
  g.source.resize(m);
  for (int64_t i = 0; i < m; ++i) g.source[next[index[i]]++] = i;
  return g;
}

// out[r] = sum over sources i of row r of scale(i) * src[i].
template <typename Scale>
Tensor ScatterRows(const Tensor& src, const int64_t* index, int64_t num_rows, Scale scale) {
  const int64_t m = src.dim(0), row = RowSize(src);
  Shape shape = src.shape();
  shape[0] = num_rows;
  Tensor out = Tensor::Zeros(shape);
  const RowsByDestination groups = GroupByDestination(index, m, num_rows);
  const float* ps = src.data<float>();
  float* po = out.data<float>();
#pragma omp parallel for schedule(dynamic, 64) if (m * row > (1 << 15))
  for (int64_t r = 0; r < num_rows; ++r) {
    float* __restrict dst = po + r * row;
    for (int64_t k = groups.start[r]; k < groups.start[r + 1]; ++k) {
      const int64_t i = groups.source[k];
      const float w = scale(i);
      const float* __restrict s = ps + i * row;
#pragma omp simd
      for (int64_t c = 0; c < row; ++c) dst[c] += w * s[c];
    }
  }
  return out;
}

}  // namespace

Tensor ScatterAddRows(const Tensor& src, const Tensor& index, int64_t num_rows) {
  CheckCpuF32("ScatterAddRows", src);
  CheckIndices("ScatterAddRows", index);
  CHECK(src.ndim() >= 1 && index.shape() == Shape{src.dim(0)})
      << "ScatterAddRows: src " << ShapeToString(src.shape()) << ", index " << ShapeToString(index.shape())
      << " (needs src [M, ...], index [M])";
  const int64_t* pi = index.data<int64_t>();
  CheckRange("ScatterAddRows", pi, index.dim(0), num_rows);
  Tensor out = ScatterRows(src, pi, num_rows, [](int64_t) { return 1.f; });
  return Record(out, "ScatterAddRows", {src}, [index](const Tensor& g, const Tensor&) {
    return std::vector<Tensor>{IndexSelect(g, index)};
  });
}

Tensor WeightedScatterAddRows(const Tensor& src, const Tensor& weight, const Tensor& index, int64_t num_rows) {
  CheckCpuF32("WeightedScatterAddRows", src);
  CheckCpuF32("WeightedScatterAddRows", weight);
  CheckIndices("WeightedScatterAddRows", index);
  CHECK(src.ndim() >= 1 && index.shape() == Shape{src.dim(0)} && weight.shape() == Shape{src.dim(0)})
      << "WeightedScatterAddRows: src " << ShapeToString(src.shape()) << ", weight " << ShapeToString(weight.shape())
      << ", index " << ShapeToString(index.shape()) << " (needs src [M, ...], weight [M], index [M])";
  const int64_t* pi = index.data<int64_t>();
  CheckRange("WeightedScatterAddRows", pi, index.dim(0), num_rows);
  const float* pw = weight.data<float>();
  Tensor out = ScatterRows(src, pi, num_rows, [pw](int64_t i) { return pw[i]; });
  return Record(out, "WeightedScatterAddRows", {src, weight}, [src, weight, index](const Tensor& g, const Tensor&) {
    const int64_t m = src.dim(0), row = RowSize(src);
    const int64_t* pi = index.data<int64_t>();
    const float* pg = g.data<float>();
    const float* ps = src.data<float>();
    const float* pw = weight.data<float>();
    Tensor gs, gw;
    if (src.requires_grad()) {  // gs[i] = weight[i] * g[index[i]]
      gs = Tensor::Empty(src.shape());
      float* out = gs.data<float>();
#pragma omp parallel for if (m * row > (1 << 15))
      for (int64_t i = 0; i < m; ++i) {
        const float* __restrict gr = pg + pi[i] * row;
        float* __restrict o = out + i * row;
#pragma omp simd
        for (int64_t c = 0; c < row; ++c) o[c] = pw[i] * gr[c];
      }
    }
    if (weight.requires_grad()) {  // gw[i] = <g[index[i]], src[i]>
      gw = Tensor::Empty(weight.shape());
      float* out = gw.data<float>();
#pragma omp parallel for if (m * row > (1 << 15))
      for (int64_t i = 0; i < m; ++i) {
        const float* __restrict gr = pg + pi[i] * row;
        const float* __restrict sr = ps + i * row;
        float dot = 0.f;
#pragma omp simd reduction(+ : dot)
        for (int64_t c = 0; c < row; ++c) dot += gr[c] * sr[c];
        out[i] = dot;
      }
    }
    return std::vector<Tensor>{gs, gw};
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
