#include "core/ops/pool.h"

#include <limits>

#include "core/testing/gradcheck.h"
#include "gtest/gtest.h"

namespace onemodel::ops {
namespace {

using testing::CheckOp;
using testing::Doubles;

Doubles PoolRef(const Doubles& in, int64_t b, int64_t h, int64_t w, int64_t c, const Pool2dOptions& o, bool max) {
  const int64_t oh = (h + 2 * o.pad_h - o.kernel_h) / o.stride_h + 1;
  const int64_t ow = (w + 2 * o.pad_w - o.kernel_w) / o.stride_w + 1;
  Doubles out;
  for (int64_t n = 0; n < b; ++n)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x = 0; x < ow; ++x)
        for (int64_t ch = 0; ch < c; ++ch) {
          double acc = max ? -std::numeric_limits<double>::infinity() : 0.0;
          int count = 0;
          for (int64_t i = 0; i < o.kernel_h; ++i)
            for (int64_t j = 0; j < o.kernel_w; ++j) {
              const int64_t iy = y * o.stride_h - o.pad_h + i, ix = x * o.stride_w - o.pad_w + j;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              const double v = in[((n * h + iy) * w + ix) * c + ch];
              acc = max ? std::max(acc, v) : acc + v;
              ++count;
            }
          out.push_back(max ? acc : acc / count);
        }
  return out;
}

TEST(PoolTest, MaxAndAvg2dWithPadding) {
  std::mt19937 rng(1);
  for (bool max : {true, false}) {
    for (int trial = 0; trial < 4; ++trial) {
      const Shape bc = testing::RandomShape(rng, 2, 3);
      const int64_t h = 3 + rng() % 4, w = 3 + rng() % 4;
      Pool2dOptions o{2 + trial % 2, 2, 1 + trial % 2, 2, trial % 2, 1};
      CheckOp({testing::RandomTensor(rng, {bc[0], h, w, bc[1]})},
              [&](const std::vector<Tensor>& in) { return max ? MaxPool2d(in[0], o) : AvgPool2d(in[0], o); },
              [&](const std::vector<Doubles>& in) { return PoolRef(in[0], bc[0], h, w, bc[1], o, max); });
    }
  }
}

TEST(PoolTest, OneDimensional) {
  std::mt19937 rng(2);
  const Pool2dOptions o{3, 1, 2, 1, 1, 0};
  for (bool max : {true, false}) {
    CheckOp({testing::RandomTensor(rng, {2, 7, 3})},
            [&](const std::vector<Tensor>& in) { return max ? MaxPool1d(in[0], 3, 2, 1) : AvgPool1d(in[0], 3, 2, 1); },
            [&](const std::vector<Doubles>& in) { return PoolRef(in[0], 2, 7, 1, 3, o, max); });
  }
}

}  // namespace
}  // namespace onemodel::ops
