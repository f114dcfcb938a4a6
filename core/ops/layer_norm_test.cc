#include "core/ops/layer_norm.h"

#include <cmath>

#include "core/testing/gradcheck.h"
#include "gtest/gtest.h"

namespace onemodel::ops {
namespace {

using testing::CheckOp;
using testing::Doubles;

TEST(LayerNormTest, MatchesReferenceOnRandomShapes) {
  std::mt19937 rng(1);
  for (int trial = 0; trial < 5; ++trial) {
    Shape shape = testing::RandomShape(rng, 1 + trial % 3, 5);
    shape.back() = trial == 0 ? 1 : shape.back() + 1;  // includes D = 1 (output is beta)
    const int64_t d = shape.back();
    // With D = 1 the true input gradient is 0 and ours is f32 rounding amplified by 1/sqrt(eps); a
    // moderate eps keeps that under the check's absolute floor.
    const float eps = 1e-3f;
    CheckOp({testing::RandomTensor(rng, shape, -2.f, 2.f), testing::RandomTensor(rng, {d}, 0.5f, 1.5f),
             testing::RandomTensor(rng, {d})},
            [&](const std::vector<Tensor>& in) { return LayerNorm(in[0], in[1], in[2], eps); },
            [&](const std::vector<Doubles>& in) {
              const Doubles& x = in[0];
              Doubles out(x.size());
              for (size_t r = 0; r < x.size() / d; ++r) {
                double mean = 0, var = 0;
                for (int64_t j = 0; j < d; ++j) mean += x[r * d + j] / d;
                for (int64_t j = 0; j < d; ++j) var += (x[r * d + j] - mean) * (x[r * d + j] - mean) / d;
                for (int64_t j = 0; j < d; ++j) {
                  out[r * d + j] = (x[r * d + j] - mean) / std::sqrt(var + eps) * in[1][j] + in[2][j];
                }
              }
              return out;
            });
  }
}

}  // namespace
}  // namespace onemodel::ops
