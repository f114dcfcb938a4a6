#include "core/ops/gemm_bf16.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/tensor.h"
#include "gtest/gtest.h"

namespace onemodel::ops {
namespace {

struct Problem {
  bool trans_a, trans_b;
  int64_t m, n, k;
};

std::vector<float> Random(std::mt19937& rng, int64_t count) {
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> v(count);
  for (float& x : v) x = normal(rng);
  return v;
}

float Bf16(float x) { return BF16ToFloat(FloatToBF16(x)); }

// Checks GemmBF16 against a double-precision product of the operands rounded to bf16. The only freedom left is
// the order of f32 accumulation, bounded by k * 2^-24 * sum |a b| for each entry.
void ExpectMatchesRoundedReference(const Problem& p, const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<float> c(p.m * p.n, NAN);
  GemmBF16(p.trans_a, p.trans_b, p.m, p.n, p.k, a.data(), b.data(), c.data());
  int64_t worst = -1;
  double worst_excess = 0;
  for (int64_t i = 0; i < p.m; ++i) {
    for (int64_t j = 0; j < p.n; ++j) {
      double sum = 0, magnitude = 0;
      for (int64_t kk = 0; kk < p.k; ++kk) {
        const double x = Bf16(p.trans_a ? a[kk * p.m + i] : a[i * p.k + kk]);
        const double y = Bf16(p.trans_b ? b[j * p.k + kk] : b[kk * p.n + j]);
        sum += x * y;
        magnitude += std::fabs(x * y);
      }
      const double excess = std::fabs(c[i * p.n + j] - sum) - p.k * std::ldexp(magnitude, -24);
      if (!(excess <= worst_excess)) worst = i * p.n + j, worst_excess = std::isnan(excess) ? INFINITY : excess;
    }
  }
  EXPECT_EQ(worst, -1) << "entry " << worst << " off by " << worst_excess << " beyond the accumulation bound";
}

class GemmBF16Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CpuBF16GemmAvailable()) GTEST_SKIP() << "this CPU has no AVX512-BF16 (or ONEMODEL_BF16_GEMM=emulate)";
  }
};

// Shapes cross every edge: partial register tiles (12 x 32), odd k (a half-empty last pair), several k blocks
// (256), several row blocks, one row or column.
TEST_F(GemmBF16Test, MatchesRoundedReferenceInEveryLayout) {
  std::mt19937 rng(3);
  const int64_t shapes[][3] = {{1, 1, 1}, {12, 32, 2}, {13, 33, 3}, {37, 70, 255}, {5, 17, 600}, {300, 47, 41},
                               {29, 96, 513}};
  for (int flags = 0; flags < 4; ++flags) {
    for (const auto& s : shapes) {
      const Problem p{(flags & 1) != 0, (flags & 2) != 0, s[0], s[1], s[2]};
      SCOPED_TRACE(::testing::Message() << "ta=" << p.trans_a << " tb=" << p.trans_b << " m=" << p.m << " n=" << p.n
                                        << " k=" << p.k);
      ExpectMatchesRoundedReference(p, Random(rng, p.m * p.k), Random(rng, p.k * p.n));
    }
  }
}

// Few rows and a long k: k cut into 2, 4 or 8 shares by the shape alone, each into its own copy of C, the copies
// added in order. Every layout; shares of odd length and a shorter last share (k 3003), more columns than one
// block (4,200), eight shares (k 40,000); the same bits at one, two and three threads.
TEST_F(GemmBF16Test, KSplitMatchesRoundedReferenceAtAnyThreadCount) {
  std::mt19937 rng(11);
  const int64_t shapes[][3] = {{20, 40, 3003}, {240, 33, 1537}, {1, 70, 2048}, {7, 4200, 1100}, {16, 24, 40000}};
  const int saved = omp_get_max_threads();
  for (int flags = 0; flags < 4; ++flags) {
    for (const auto& s : shapes) {
      const Problem p{(flags & 1) != 0, (flags & 2) != 0, s[0], s[1], s[2]};
      SCOPED_TRACE(::testing::Message() << "ta=" << p.trans_a << " tb=" << p.trans_b << " m=" << p.m << " n=" << p.n
                                        << " k=" << p.k);
      const std::vector<float> a = Random(rng, p.m * p.k), b = Random(rng, p.k * p.n);
      omp_set_num_threads(2);
      ExpectMatchesRoundedReference(p, a, b);
      std::vector<float> two(p.m * p.n), other(p.m * p.n);
      GemmBF16(p.trans_a, p.trans_b, p.m, p.n, p.k, a.data(), b.data(), two.data());
      for (int threads : {1, 3}) {
        omp_set_num_threads(threads);
        GemmBF16(p.trans_a, p.trans_b, p.m, p.n, p.k, a.data(), b.data(), other.data());
        EXPECT_TRUE(std::equal(two.begin(), two.end(), other.begin())) << threads << " threads against two";
      }
    }
  }
  omp_set_num_threads(saved);
}

// Small integers are exact in bf16 and their sums exact in f32: the result must be exact, which pins down
// where every packed pair lands. Wider than one block of columns (4,096).
TEST_F(GemmBF16Test, ExactOnSmallIntegers) {
  std::mt19937 rng(4);
  std::uniform_int_distribution<int> small(-8, 8);
  const int64_t m = 14, n = 4100, k = 35;
  for (int flags = 0; flags < 4; ++flags) {
    const bool ta = flags & 1, tb = flags & 2;
    std::vector<float> a(m * k), b(k * n), c(m * n);
    for (float& x : a) x = static_cast<float>(small(rng));
    for (float& x : b) x = static_cast<float>(small(rng));
    GemmBF16(ta, tb, m, n, k, a.data(), b.data(), c.data());
    int wrong = 0;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        float sum = 0;
        for (int64_t kk = 0; kk < k; ++kk) {
          sum += (ta ? a[kk * m + i] : a[i * k + kk]) * (tb ? b[j * k + kk] : b[kk * n + j]);
        }
        wrong += c[i * n + j] != sum;
      }
    }
    EXPECT_EQ(wrong, 0) << "ta=" << ta << " tb=" << tb;
  }
}

// Rounding is to nearest, ties to even: 1 + 2^-8 lies halfway between bf16's 1 and 1 + 2^-7 (goes to 1), and
// 1 + 3 * 2^-8 halfway between 1 + 2^-7 and 1 + 2^-6 (goes to 1 + 2^-6); 1 + 2^-8 + 2^-12 is past the tie.
TEST_F(GemmBF16Test, RoundsToNearestEven) {
  const std::vector<float> a = {1.f + std::ldexp(1.f, -8), 1.f + 3 * std::ldexp(1.f, -8),
                                1.f + std::ldexp(1.f, -8) + std::ldexp(1.f, -12)};
  const std::vector<float> one = {1.f};
  std::vector<float> c(3);
  GemmBF16(false, false, 3, 1, 1, a.data(), one.data(), c.data());
  EXPECT_EQ(c[0], 1.f);
  EXPECT_EQ(c[1], 1.f + std::ldexp(1.f, -6));
  EXPECT_EQ(c[2], 1.f + std::ldexp(1.f, -7));
}

// Called from inside a parallel region (as the batched and grouped products do) it runs on one thread and
// gives the same numbers as the threaded call: neither the rows' split nor k's shares depend on the threads.
// Shapes: one row block, two (300 rows), and a k split into shares.
TEST_F(GemmBF16Test, SameResultInsideAParallelRegion) {
  std::mt19937 rng(5);
  const int64_t shapes[][3] = {{100, 64, 300}, {300, 40, 200}, {64, 32, 2500}};
  for (const auto& [m, n, k] : shapes) {
    SCOPED_TRACE(::testing::Message() << "m=" << m << " n=" << n << " k=" << k);
    const std::vector<float> a = Random(rng, m * k), b = Random(rng, k * n);
    std::vector<float> threaded(m * n), inside(4 * m * n);
    GemmBF16(false, true, m, n, k, a.data(), b.data(), threaded.data());
#pragma omp parallel for num_threads(2)
    for (int copy = 0; copy < 4; ++copy) GemmBF16(false, true, m, n, k, a.data(), b.data(), &inside[copy * m * n]);
    for (int copy = 0; copy < 4; ++copy) {
      EXPECT_TRUE(std::equal(threaded.begin(), threaded.end(), inside.begin() + copy * m * n)) << "copy " << copy;
    }
  }
}

TEST_F(GemmBF16Test, EmptyInnerDimensionGivesZeros) {
  std::vector<float> c(6, NAN);
  GemmBF16(false, false, 2, 3, 0, nullptr, nullptr, c.data());
  for (float x : c) EXPECT_EQ(x, 0.f);
}

}  // namespace
}  // namespace onemodel::ops
