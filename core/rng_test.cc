#include "core/rng.h"

#include <cmath>

#include "gtest/gtest.h"

namespace onemodel {
namespace {

// Known-answer vectors of Random123's kat_vectors (counter, key -> output).
TEST(RngTest, PhiloxKnownAnswers) {
  EXPECT_EQ(Philox4x32({0, 0, 0, 0}, {0, 0}), (PhiloxCounter{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(Philox4x32({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
            (PhiloxCounter{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(Philox4x32({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
            (PhiloxCounter{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(RngTest, ValuesDependOnEveryKeyField) {
  const RngKey base{1, 2, 3, 4};
  const float v = UniformAt(base, 10);
  EXPECT_EQ(UniformAt(base, 10), v);
  for (RngKey other : {RngKey{9, 2, 3, 4}, RngKey{1, 9, 3, 4}, RngKey{1, 2, 9, 4}, RngKey{1, 2, 3, 9}}) {
    EXPECT_NE(UniformAt(other, 10), v);
  }
  EXPECT_NE(UniformAt(base, 11), v);
}

TEST(RngTest, UniformAndNormalMoments) {
  const int n = 200000;
  const Tensor u = RandomUniform({n}, RngKey{5}, 0.f, 1.f);
  const Tensor z = RandomNormal({n}, RngKey{6});
  double su = 0, sz = 0, sz2 = 0;
  float lo = 1, hi = 0;
  for (int i = 0; i < n; ++i) {
    const float a = u.data<float>()[i], b = z.data<float>()[i];
    su += a;
    sz += b;
    sz2 += b * b;
    lo = std::min(lo, a);
    hi = std::max(hi, a);
  }
  EXPECT_NEAR(su / n, 0.5, 0.005);
  EXPECT_GE(lo, 0.f);
  EXPECT_LT(hi, 1.f);
  EXPECT_NEAR(sz / n, 0.0, 0.01);
  EXPECT_NEAR(sz2 / n, 1.0, 0.01);
}

TEST(RngTest, OffsetsMatchTheUnshardedStream) {
  const Tensor full = RandomNormal({12}, RngKey{3, 1});
  const Tensor shard = RandomNormal({5}, RngKey{3, 1}, 0.f, 1.f, 7);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(shard.data<float>()[i], full.data<float>()[7 + i]);
}

}  // namespace
}  // namespace onemodel
