#include "core/ops/matmul.h"

#include "core/testing/gradcheck.h"
#include "gtest/gtest.h"

namespace onemodel::ops {
namespace {

using testing::CheckOp;
using testing::Doubles;

// C[b] = op(A[b]) op(B[b]) with A stored [rows_a, cols_a] and B stored [rows_b, cols_b].
Doubles MatMulRef(const Doubles& a, const Doubles& b, int64_t batch, int64_t m, int64_t n, int64_t k, bool ta,
                  bool tb, bool b_shared) {
  Doubles c(batch * m * n, 0.0);
  for (int64_t z = 0; z < batch; ++z) {
    const double* pa = a.data() + z * m * k;
    const double* pb = b.data() + (b_shared ? 0 : z * k * n);
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t p = 0; p < k; ++p) s += (ta ? pa[p * m + i] : pa[i * k + p]) * (tb ? pb[j * k + p] : pb[p * n + j]);
        c[(z * m + i) * n + j] = s;
      }
    }
  }
  return c;
}

TEST(MatMulTest, AllTransposeCombinations2D) {
  std::mt19937 rng(1);
  for (int trial = 0; trial < 8; ++trial) {
    const bool ta = trial & 1, tb = trial & 2;
    const Shape mnk = testing::RandomShape(rng, 3, 6);
    const int64_t m = mnk[0], n = mnk[1], k = mnk[2];
    const Tensor a = testing::RandomTensor(rng, ta ? Shape{k, m} : Shape{m, k});
    const Tensor b = testing::RandomTensor(rng, tb ? Shape{n, k} : Shape{k, n});
    SCOPED_TRACE(::testing::Message() << "ta=" << ta << " tb=" << tb << " m,n,k=" << m << "," << n << "," << k);
    CheckOp({a, b}, [&](const std::vector<Tensor>& in) { return MatMul(in[0], in[1], ta, tb); },
            [&](const std::vector<Doubles>& in) { return MatMulRef(in[0], in[1], 1, m, n, k, ta, tb, true); });
  }
}

TEST(MatMulTest, LeadingDimsFoldIntoRows) {
  std::mt19937 rng(2);
  for (bool tb : {false, true}) {
    const Tensor a = testing::RandomTensor(rng, {2, 3, 4});
    const Tensor b = testing::RandomTensor(rng, tb ? Shape{5, 4} : Shape{4, 5});
    CheckOp({a, b}, [&](const std::vector<Tensor>& in) { return MatMul(in[0], in[1], false, tb); },
            [&](const std::vector<Doubles>& in) { return MatMulRef(in[0], in[1], 1, 6, 5, 4, false, tb, true); });
    EXPECT_EQ(MatMul(a, b, false, tb).shape(), (Shape{2, 3, 5}));
  }
}

TEST(MatMulTest, Batched) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 4; ++trial) {
    const bool ta = trial & 1, tb = trial & 2;
    const Shape bmnk = testing::RandomShape(rng, 4, 4);
    const int64_t z = bmnk[0], m = bmnk[1], n = bmnk[2], k = bmnk[3];
    const Tensor a = testing::RandomTensor(rng, ta ? Shape{z, k, m} : Shape{z, m, k});
    const Tensor b = testing::RandomTensor(rng, tb ? Shape{z, n, k} : Shape{z, k, n});
    CheckOp({a, b}, [&](const std::vector<Tensor>& in) { return BatchedMatMul(in[0], in[1], ta, tb); },
            [&](const std::vector<Doubles>& in) { return MatMulRef(in[0], in[1], z, m, n, k, ta, tb, false); });
  }
}

TEST(MatMulTest, GroupedWithEmptyGroups) {
  std::mt19937 rng(4);
  for (bool tw : {false, true}) {
    const std::vector<int64_t> sizes = {2, 0, 3, 1};
    const int64_t a = 6, k = 3, n = 4, groups = 4;
    CheckOp({testing::RandomTensor(rng, {a, k}), testing::RandomTensor(rng, tw ? Shape{groups, n, k} : Shape{groups, k, n})},
            [&](const std::vector<Tensor>& in) { return GroupedMatMul(in[0], in[1], sizes, tw); },
            [&](const std::vector<Doubles>& in) {
              Doubles out;
              int64_t row = 0;
              for (int64_t g = 0; g < groups; ++g) {
                const Doubles x(in[0].begin() + row * k, in[0].begin() + (row + sizes[g]) * k);
                const Doubles w(in[1].begin() + g * k * n, in[1].begin() + (g + 1) * k * n);
                const Doubles y = MatMulRef(x, w, 1, sizes[g], n, k, false, tw, true);
                out.insert(out.end(), y.begin(), y.end());
                row += sizes[g];
              }
              return out;
            });
  }
}

TEST(MatMulDeathTest, InnerDimMismatchNamesShapes) {
  EXPECT_DEATH(MatMul(Tensor::Zeros({2, 3}), Tensor::Zeros({4, 5})), "MatMul: inner dims differ: \\[2, 3\\] x \\[4, 5\\]");
}

}  // namespace
}  // namespace onemodel::ops
