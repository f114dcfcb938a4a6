#include "core/ops/indexing.h"

#include "core/testing/gradcheck.h"
#include "gtest/gtest.h"

namespace onemodel::ops {
namespace {

using testing::CheckOp;
using testing::Doubles;

std::vector<int64_t> RandomIndices(std::mt19937& rng, int64_t count, int64_t bound) {
  std::vector<int64_t> out(count);
  for (auto& v : out) v = static_cast<int64_t>(rng() % bound);
  return out;
}

TEST(IndexingTest, IndexSelectWithRepeatsAndScatterAddRows) {
  std::mt19937 rng(1);
  for (int trial = 0; trial < 4; ++trial) {
    const Shape shape = testing::RandomShape(rng, 1 + trial % 3);
    const int64_t rows = shape[0], row = NumElements(shape) / rows;
    const int64_t m = 1 + trial * 2;
    const std::vector<int64_t> idx = RandomIndices(rng, m, rows);
    const Tensor index = Tensor::FromIndices(idx, {m});
    CheckOp({testing::RandomTensor(rng, shape)}, [&](const std::vector<Tensor>& in) { return IndexSelect(in[0], index); },
            [&](const std::vector<Doubles>& in) {
              Doubles out;
              for (int64_t i : idx) out.insert(out.end(), in[0].begin() + i * row, in[0].begin() + (i + 1) * row);
              return out;
            });
    Shape src_shape = shape;
    src_shape[0] = m;
    CheckOp({testing::RandomTensor(rng, src_shape)},
            [&](const std::vector<Tensor>& in) { return ScatterAddRows(in[0], index, rows); },
            [&](const std::vector<Doubles>& in) {
              Doubles out(rows * row, 0.0);
              for (int64_t i = 0; i < m; ++i) {
                for (int64_t c = 0; c < row; ++c) out[idx[i] * row + c] += in[0][i * row + c];
              }
              return out;
            });
  }
}

TEST(IndexingTest, WeightedScatterAddRows) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 3; ++trial) {
    const Shape shape = testing::RandomShape(rng, 1 + trial % 2);
    const int64_t rows = 2 + trial, row = NumElements(shape) / shape[0], m = shape[0] + 2;
    Shape src_shape = shape;
    src_shape[0] = m;
    const std::vector<int64_t> idx = RandomIndices(rng, m, rows);
    const Tensor index = Tensor::FromIndices(idx, {m});
    CheckOp({testing::RandomTensor(rng, src_shape), testing::RandomTensor(rng, {m})},
            [&](const std::vector<Tensor>& in) { return WeightedScatterAddRows(in[0], in[1], index, rows); },
            [&](const std::vector<Doubles>& in) {
              Doubles out(rows * row, 0.0);
              for (int64_t i = 0; i < m; ++i) {
                for (int64_t c = 0; c < row; ++c) out[idx[i] * row + c] += in[1][i] * in[0][i * row + c];
              }
              return out;
            });
  }
}

TEST(IndexingTest, GatherLastDimAndTopK) {
  std::mt19937 rng(2);
  for (int trial = 0; trial < 4; ++trial) {
    Shape shape = testing::RandomShape(rng, 1 + trial % 3, 6);
    const int64_t n = shape.back();
    const int64_t k = 1 + static_cast<int64_t>(rng() % n);
    Shape idx_shape = shape;
    idx_shape.back() = k;
    const std::vector<int64_t> idx = RandomIndices(rng, NumElements(idx_shape), n);
    const Tensor index = Tensor::FromIndices(idx, idx_shape);
    CheckOp({testing::RandomTensor(rng, shape)}, [&](const std::vector<Tensor>& in) { return GatherLastDim(in[0], index); },
            [&](const std::vector<Doubles>& in) {
              Doubles out(idx.size());
              for (size_t i = 0; i < idx.size(); ++i) out[i] = in[0][(i / k) * n + idx[i]];
              return out;
            });
    CheckOp({testing::RandomTensor(rng, shape)}, [&](const std::vector<Tensor>& in) { return TopK(in[0], k).values; },
            [&](const std::vector<Doubles>& in) {
              Doubles out;
              for (size_t r = 0; r < in[0].size() / n; ++r) {
                Doubles row(in[0].begin() + r * n, in[0].begin() + (r + 1) * n);
                std::sort(row.begin(), row.end(), std::greater<double>());
                out.insert(out.end(), row.begin(), row.begin() + k);
              }
              return out;
            });
  }
}

TEST(IndexingTest, TopKIndicesDescendingTiesToLowerIndex) {
  const TopKResult r = TopK(Tensor::FromVector({1.f, 3.f, 3.f, 2.f, 0.f, -1.f, 5.f, 5.f}, {2, 4}), 2);
  EXPECT_EQ(r.indices.ToIndices(), (std::vector<int64_t>{1, 2, 2, 3}));
  EXPECT_EQ(r.values.ToVector(), (std::vector<float>{3.f, 3.f, 5.f, 5.f}));
}

TEST(IndexingTest, EmbeddingLooksUpRowsAndAccumulatesRepeats) {
  std::mt19937 rng(3);
  const std::vector<int64_t> ids = {2, 0, 2, 1, 2, 2};
  const Tensor id_tensor = Tensor::FromIndices(ids, {2, 3});
  CheckOp({testing::RandomTensor(rng, {3, 4})}, [&](const std::vector<Tensor>& in) {
            Tensor y = Embedding(in[0], id_tensor);
            EXPECT_EQ(y.shape(), (Shape{2, 3, 4}));
            return y;
          },
          [&](const std::vector<Doubles>& in) {
            Doubles out;
            for (int64_t i : ids) out.insert(out.end(), in[0].begin() + i * 4, in[0].begin() + (i + 1) * 4);
            return out;
          });
}

TEST(IndexingDeathTest, OutOfRangeIndexIsNamed) {
  EXPECT_DEATH(IndexSelect(Tensor::Zeros({3, 2}), Tensor::FromIndices({0, 3}, {2})),
               "IndexSelect: index 3 at position 1 outside \\[0, 3\\)");
  EXPECT_DEATH(TopK(Tensor::Zeros({2, 3}), 4), "TopK: k = 4 for a last dim of 3");
}

}  // namespace
}  // namespace onemodel::ops
