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

// Index tensors may live on the host even when the data is on a GPU (routers build them there).
void CheckIndexTensor(const char* op, const Tensor& t) {
  CHECK(t.defined() && t.dtype() == DType::kI64) << op << ": indices must be an i64 tensor";
}
const int64_t* I64(const Tensor& t) { return static_cast<const int64_t*>(t.raw_data()); }

}  // namespace

Tensor IndexSelect(const Tensor& x, const Tensor& index) {
  CheckF32("IndexSelect", x);
  CheckIndexTensor("IndexSelect", index);
  CHECK(x.ndim() >= 1 && index.ndim() == 1) << "IndexSelect: x " << ShapeToString(x.shape()) << ", index "
                                            << ShapeToString(index.shape()) << " (needs x [N, ...], index [M])";
  const int64_t m = index.dim(0), row = RowSize(x);
  if (OnCuda(x)) {
    const std::vector<int64_t> host = index.ToIndices();
    CheckRange("IndexSelect", host.data(), m, x.dim(0));
    const Tensor device_index = index.To(x.device());
    Shape shape = x.shape();
    shape[0] = m;
    Tensor out = Tensor::Empty(shape, DType::kF32, x.device());
    RequireCudaBackend().GatherRows(F32(x), I64(device_index), F32(out), m, row);
    // The backward takes the index as given: one on the host is grouped there without a read back.
    return Record(out, "IndexSelect", {x}, [x, index](const Tensor& g, const Tensor&) {
      return std::vector<Tensor>{ScatterAddRows(g, index, x.dim(0))};
    });
  }
  CheckIndices("IndexSelect", index);
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

// CUDA: the CSR grouping is built on the host and copied over with the call.
Tensor ScatterRowsCuda(const Tensor& src, const Tensor& weight, const std::vector<int64_t>& index, int64_t num_rows) {
  const RowsByDestination groups = GroupByDestination(index.data(), static_cast<int64_t>(index.size()), num_rows);
  const Tensor start = Tensor::FromIndices(groups.start, {num_rows + 1}).To(src.device());
  const Tensor source = Tensor::FromIndices(groups.source, {static_cast<int64_t>(groups.source.size())}).To(src.device());
  Shape shape = src.shape();
  shape[0] = num_rows;
  Tensor out = Tensor::Empty(shape, DType::kF32, src.device());
  RequireCudaBackend().ScatterRows(F32(src), weight.defined() ? F32(weight) : nullptr, I64(start), I64(source),
                                   F32(out), num_rows, RowSize(src));
  return out;
}

Tensor ScatterAddRows(const Tensor& src, const Tensor& index, int64_t num_rows) {
  CheckF32("ScatterAddRows", src);
  CheckIndexTensor("ScatterAddRows", index);
  CHECK(src.ndim() >= 1 && index.shape() == Shape{src.dim(0)})
      << "ScatterAddRows: src " << ShapeToString(src.shape()) << ", index " << ShapeToString(index.shape())
      << " (needs src [M, ...], index [M])";
  if (OnCuda(src)) {
    const std::vector<int64_t> host = index.ToIndices();
    CheckRange("ScatterAddRows", host.data(), index.dim(0), num_rows);
    return Record(ScatterRowsCuda(src, Tensor(), host, num_rows), "ScatterAddRows", {src},
                  [index](const Tensor& g, const Tensor&) { return std::vector<Tensor>{IndexSelect(g, index)}; });
  }
  CheckIndices("ScatterAddRows", index);
  const int64_t* pi = index.data<int64_t>();
  CheckRange("ScatterAddRows", pi, index.dim(0), num_rows);
  Tensor out = ScatterRows(src, pi, num_rows, [](int64_t) { return 1.f; });
  return Record(out, "ScatterAddRows", {src}, [index](const Tensor& g, const Tensor&) {
    return std::vector<Tensor>{IndexSelect(g, index)};
  });
}

Tensor WeightedScatterAddRows(const Tensor& src, const Tensor& weight, const Tensor& index, int64_t num_rows) {
  CheckF32("WeightedScatterAddRows", src);
  CheckF32("WeightedScatterAddRows", weight);
  CheckSameDevice("WeightedScatterAddRows", src, weight);
  CheckIndexTensor("WeightedScatterAddRows", index);
  CHECK(src.ndim() >= 1 && index.shape() == Shape{src.dim(0)} && weight.shape() == Shape{src.dim(0)})
      << "WeightedScatterAddRows: src " << ShapeToString(src.shape()) << ", weight " << ShapeToString(weight.shape())
      << ", index " << ShapeToString(index.shape()) << " (needs src [M, ...], weight [M], index [M])";
  if (OnCuda(src)) {
    const std::vector<int64_t> host = index.ToIndices();
    CheckRange("WeightedScatterAddRows", host.data(), index.dim(0), num_rows);
    const Tensor device_index = index.To(src.device());
    return Record(ScatterRowsCuda(src, weight, host, num_rows), "WeightedScatterAddRows", {src, weight},
                  [src, weight, device_index](const Tensor& g, const Tensor&) {
                    const int64_t m = src.dim(0), row = RowSize(src);
                    Tensor gs, gw;
                    if (src.requires_grad()) {
                      gs = Tensor::Empty(src.shape(), DType::kF32, src.device());
                      RequireCudaBackend().GatherRowsScaled(F32(g), I64(device_index), F32(weight), F32(gs), m, row);
                    }
                    if (weight.requires_grad()) {
                      gw = Tensor::Empty(weight.shape(), DType::kF32, src.device());
                      RequireCudaBackend().GatherRowDots(F32(g), I64(device_index), F32(src), F32(gw), m, row);
                    }
                    return std::vector<Tensor>{gs, gw};
                  });
  }
  CheckIndices("WeightedScatterAddRows", index);
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

namespace {

// x [..., n] on a GPU, index [..., k] on the same GPU and known to be in range.
Tensor GatherLastDimCuda(const Tensor& x, const Tensor& device_index) {
  const int64_t n = x.dim(-1), k = device_index.dim(-1);
  const int64_t rows = k == 0 ? 0 : device_index.numel() / k;
  Tensor out = Tensor::Empty(device_index.shape(), DType::kF32, x.device());
  RequireCudaBackend().GatherLastDim(F32(x), I64(device_index), F32(out), rows, n, k);
  return Record(out, "GatherLastDim", {x}, [x, device_index, rows, n, k](const Tensor& g, const Tensor&) {
    Tensor gx = Tensor::Empty(x.shape(), DType::kF32, x.device());
    RequireCudaBackend().GatherLastDimBackward(F32(g), I64(device_index), F32(gx), rows, n, k);
    return std::vector<Tensor>{gx};
  });
}

}  // namespace

Tensor GatherLastDim(const Tensor& x, const Tensor& index) {
  CheckF32("GatherLastDim", x);
  CheckIndexTensor("GatherLastDim", index);
  CHECK(x.ndim() >= 1 && index.ndim() == x.ndim() &&
        std::equal(x.shape().begin(), x.shape().end() - 1, index.shape().begin()))
      << "GatherLastDim: x " << ShapeToString(x.shape()) << ", index " << ShapeToString(index.shape())
      << " must agree on all but the last dim";
  const int64_t n = x.dim(-1), k = index.dim(-1);
  const int64_t rows = k == 0 ? 0 : index.numel() / k;
  if (OnCuda(x)) {
    const std::vector<int64_t> host = index.ToIndices();
    CheckRange("GatherLastDim", host.data(), index.numel(), n);
    return GatherLastDimCuda(x, index.To(x.device()));
  }
  CheckIndices("GatherLastDim", index);
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
  CheckF32("TopK", x);
  CHECK_GE(x.ndim(), 1) << "TopK of a scalar";
  const int64_t n = x.dim(-1);
  CHECK(k >= 1 && k <= n) << "TopK: k = " << k << " for a last dim of " << n;
  const int64_t rows = n == 0 ? 0 : x.numel() / n;
  Shape shape = x.shape();
  shape.back() = k;
  if (OnCuda(x)) {
    Tensor values = Tensor::Empty(shape, DType::kF32, x.device());
    Tensor indices = Tensor::Empty(shape, DType::kI64, x.device());
    {
      NoGradScope no_grad;  // the values are recomputed below as a differentiable gather
      RequireCudaBackend().TopK(F32(x), F32(values), static_cast<int64_t*>(indices.raw_data()), rows, n, k);
    }
    // The kernel's indices are in range: no read back to check them.
    return {GatherLastDimCuda(x, indices), indices};
  }
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
