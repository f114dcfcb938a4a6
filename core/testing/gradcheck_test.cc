#include "core/testing/gradcheck.h"

#include "core/autograd.h"
#include "core/ops/elementwise.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"

namespace onemodel::testing {
namespace {

// y = 2x whose backward claims 2.01: the checker must catch a 0.5% gradient error.
Tensor SlightlyWrongDouble(const std::vector<Tensor>& in) {
  Tensor out = ops::Scale(in[0].Detach(), 2.f);
  return Record(out, "SlightlyWrongDouble", {in[0]},
                [](const Tensor& g, const Tensor&) { return std::vector<Tensor>{ops::Scale(g, 2.01f)}; });
}

Doubles DoubleRef(const std::vector<Doubles>& in) {
  Doubles out = in[0];
  for (double& v : out) v *= 2;
  return out;
}

Doubles TripleRef(const std::vector<Doubles>& in) {
  Doubles out = in[0];
  for (double& v : out) v *= 3;
  return out;
}

void CheckWrongGradient() {
  std::mt19937 rng(1);
  CheckOp({RandomTensor(rng, {3, 2})}, SlightlyWrongDouble, DoubleRef);
}

void CheckWrongForward() {
  std::mt19937 rng(1);
  CheckOp({RandomTensor(rng, {3, 2})}, [](const std::vector<Tensor>& in) { return ops::Scale(in[0], 2.f); },
          TripleRef);
}

TEST(GradCheckTest, CatchesAWrongGradient) { EXPECT_FATAL_FAILURE(CheckWrongGradient(), "finite differences"); }

TEST(GradCheckTest, CatchesAWrongForward) { EXPECT_FATAL_FAILURE(CheckWrongForward(), "forward element"); }

void CheckWrongGradientNumerically() {
  std::mt19937 rng(1);
  CheckGradientsNumerically({RandomTensor(rng, {3, 2})}, SlightlyWrongDouble, 1e-2, 2e-3);
}

TEST(GradCheckTest, NumericalCheckCatchesAWrongGradient) {
  EXPECT_FATAL_FAILURE(CheckWrongGradientNumerically(), "finite differences");
}

TEST(GradCheckTest, AcceptsACorrectOp) {
  std::mt19937 rng(1);
  CheckOp({RandomTensor(rng, {3, 2})}, [](const std::vector<Tensor>& in) { return ops::Scale(in[0], 2.f); },
          DoubleRef);
}

}  // namespace
}  // namespace onemodel::testing
