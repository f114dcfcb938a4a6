#include "core/ops/matmul.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/ops/ops.h"
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

// An f32 copy of x holding its values rounded to bf16.
Tensor RoundedToBF16(const Tensor& x) {
  std::vector<float> v = x.ToVector();
  for (float& f : v) f = BF16ToFloat(FloatToBF16(f));
  return Tensor::FromVector(v, x.shape());
}

// Runs `op` on leaf copies of `inputs` at `precision`, then the backward of sum(out * upstream) once the scope
// has ended; returns the output followed by every input's gradient.
std::vector<std::vector<float>> RunAt(MatmulPrecision precision, const std::vector<Tensor>& inputs,
                                      const Tensor& upstream,
                                      const std::function<Tensor(const std::vector<Tensor>&)>& op) {
  std::vector<Tensor> leaves;
  for (const Tensor& t : inputs) leaves.push_back(t.Clone().set_requires_grad(true));
  Tensor out;
  {
    const MatmulPrecisionScope scope(precision);
    EXPECT_EQ(CurrentMatmulPrecision(), precision);
    out = op(leaves);
  }
  SumAll(Mul(out, upstream)).Backward();
  std::vector<std::vector<float>> result = {out.ToVector()};
  for (const Tensor& t : leaves) result.push_back(t.grad().ToVector());
  return result;
}

// bf16 mixed precision is the f32 product of the operands rounded to bf16, forward and backward (the upstream
// gradient rounded too), and the backward keeps its forward's precision after the scope has ended.
void ExpectBf16IsRoundedF32(const std::vector<Tensor>& inputs, const Shape& out_shape,
                            const std::function<Tensor(const std::vector<Tensor>&)>& op) {
  std::mt19937 rng(11);
  const Tensor upstream = testing::RandomTensor(rng, out_shape);
  std::vector<Tensor> rounded;
  for (const Tensor& t : inputs) rounded.push_back(RoundedToBF16(t));
  const auto bf16 = RunAt(MatmulPrecision::kBF16, inputs, upstream, op);
  EXPECT_EQ(CurrentMatmulPrecision(), MatmulPrecision::kF32);
  const auto reference = RunAt(MatmulPrecision::kF32, rounded, RoundedToBF16(upstream), op);
  ASSERT_EQ(bf16.size(), reference.size());
  // The bf16 GEMM may accumulate in another order than sgemm: equal up to f32 rounding (values here are O(1)).
  for (size_t i = 0; i < bf16.size(); ++i) {
    ASSERT_EQ(bf16[i].size(), reference[i].size());
    for (size_t j = 0; j < bf16[i].size(); ++j) {
      EXPECT_NEAR(bf16[i][j], reference[i][j], 2e-5) << (i == 0 ? "output" : "gradient") << " entry " << j;
    }
  }
  const std::vector<float> f32 = RunAt(MatmulPrecision::kF32, inputs, upstream, op)[0];
  float largest_change = 0;
  for (size_t j = 0; j < f32.size(); ++j) largest_change = std::max(largest_change, std::fabs(f32[j] - bf16[0][j]));
  EXPECT_GT(largest_change, 1e-3) << "bf16 rounded nothing";
}

TEST(MatMulTest, Bf16MixedPrecisionRoundsTheOperands) {
  std::mt19937 rng(5);
  for (int flags = 0; flags < 4; ++flags) {
    const bool ta = flags & 1, tb = flags & 2;
    SCOPED_TRACE(::testing::Message() << "ta=" << ta << " tb=" << tb);
    const Tensor a = testing::RandomTensor(rng, ta ? Shape{40, 5} : Shape{5, 40});
    const Tensor b = testing::RandomTensor(rng, tb ? Shape{6, 40} : Shape{40, 6});
    ExpectBf16IsRoundedF32({a, b}, {5, 6}, [&](const std::vector<Tensor>& in) { return MatMul(in[0], in[1], ta, tb); });
  }
  ExpectBf16IsRoundedF32({testing::RandomTensor(rng, {3, 4, 30}), testing::RandomTensor(rng, {3, 30, 2})}, {3, 4, 2},
                         [](const std::vector<Tensor>& in) { return BatchedMatMul(in[0], in[1]); });
  const std::vector<int64_t> sizes = {2, 0, 3, 1};
  for (bool tw : {false, true}) {
    const Tensor w = testing::RandomTensor(rng, tw ? Shape{4, 5, 30} : Shape{4, 30, 5});
    ExpectBf16IsRoundedF32({testing::RandomTensor(rng, {6, 30}), w}, {6, 5},
                           [&](const std::vector<Tensor>& in) { return GroupedMatMul(in[0], in[1], sizes, tw); });
  }
}

TEST(MatMulTest, PrecisionScopesNest) {
  {
    const MatmulPrecisionScope bf16(MatmulPrecision::kBF16);
    {
      const MatmulPrecisionScope f32(MatmulPrecision::kF32);
      EXPECT_EQ(CurrentMatmulPrecision(), MatmulPrecision::kF32);
    }
    EXPECT_EQ(CurrentMatmulPrecision(), MatmulPrecision::kBF16);
  }
  EXPECT_EQ(CurrentMatmulPrecision(), MatmulPrecision::kF32);
}

TEST(MatMulDeathTest, InnerDimMismatchNamesShapes) {
  EXPECT_DEATH(MatMul(Tensor::Zeros({2, 3}), Tensor::Zeros({4, 5})), "MatMul: inner dims differ: \\[2, 3\\] x \\[4, 5\\]");
}

}  // namespace
}  // namespace onemodel::ops
