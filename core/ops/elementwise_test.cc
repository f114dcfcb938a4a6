#include "core/ops/elementwise.h"

#include <cmath>

#include "core/ops/reduce.h"
#include "core/testing/gradcheck.h"
#include "gtest/gtest.h"

namespace onemodel::ops {
namespace {

using testing::CheckOp;
using testing::Doubles;

// Reference broadcasting: the shorter operand repeats over the longer one's leading dims.
template <typename F>
Doubles BroadcastRef(const Doubles& a, const Doubles& b, F f) {
  const bool a_long = a.size() >= b.size();
  const size_t n = std::max(a.size(), b.size()), inner = std::min(a.size(), b.size());
  Doubles out(n);
  for (size_t i = 0; i < n; ++i) out[i] = a_long ? f(a[i], b[i % inner]) : f(a[i % inner], b[i]);
  return out;
}

struct BinaryCase {
  const char* name;
  Tensor (*op)(const Tensor&, const Tensor&);
  double (*ref)(double, double);
};

TEST(ElementwiseTest, BinaryOpsBroadcastOverLeadingDims) {
  const BinaryCase cases[] = {
      {"Add", Add, [](double x, double y) { return x + y; }},
      {"Sub", Sub, [](double x, double y) { return x - y; }},
      {"Mul", Mul, [](double x, double y) { return x * y; }},
      {"Div", Div, [](double x, double y) { return x / y; }},
  };
  std::mt19937 rng(1);
  for (const BinaryCase& c : cases) {
    for (int trial = 0; trial < 4; ++trial) {
      const Shape full = testing::RandomShape(rng, 3);
      // Equal shapes, a suffix on either side, and a scalar.
      const Shape suffix = trial == 3 ? Shape{} : Shape(full.begin() + trial % 3, full.end());
      const bool swap = trial == 1;
      const Tensor a = testing::RandomTensor(rng, swap ? suffix : full, 0.5f, 2.f);
      const Tensor b = testing::RandomTensor(rng, swap ? full : suffix, 0.5f, 2.f);
      SCOPED_TRACE(std::string(c.name) + " " + ShapeToString(a.shape()) + " " + ShapeToString(b.shape()));
      CheckOp({a, b}, [&](const std::vector<Tensor>& in) { return c.op(in[0], in[1]); },
              [&](const std::vector<Doubles>& in) { return BroadcastRef(in[0], in[1], c.ref); });
    }
  }
}

// General numpy broadcasting reference over rank-3 shapes (dims of 1 broadcast).
Doubles General3(const Doubles& a, const Shape& sa, const Doubles& b, const Shape& sb, double (*f)(double, double)) {
  Shape out(3);
  for (int i = 0; i < 3; ++i) out[i] = std::max(sa[i], sb[i]);
  Doubles y;
  for (int64_t i = 0; i < out[0]; ++i)
    for (int64_t j = 0; j < out[1]; ++j)
      for (int64_t k = 0; k < out[2]; ++k) {
        auto at = [&](const Doubles& v, const Shape& s) {
          return v[((s[0] == 1 ? 0 : i) * s[1] + (s[1] == 1 ? 0 : j)) * s[2] + (s[2] == 1 ? 0 : k)];
        };
        y.push_back(f(at(a, sa), at(b, sb)));
      }
  return y;
}

TEST(ElementwiseTest, GeneralBroadcastingWithSizeOneDims) {
  std::mt19937 rng(7);
  const std::pair<Shape, Shape> cases[] = {
      {{3, 4, 5}, {3, 4, 1}}, {{3, 1, 1}, {3, 4, 5}}, {{3, 1, 5}, {3, 4, 1}}, {{1, 4, 1}, {3, 4, 5}},
      {{2, 1, 3}, {1, 4, 1}}, {{2, 3, 5}, {2, 1, 5}}, {{3, 1, 1}, {1, 4, 1}}};
  for (const BinaryCase& c : {BinaryCase{"Add", Add, [](double x, double y) { return x + y; }},
                              BinaryCase{"Sub", Sub, [](double x, double y) { return x - y; }},
                              BinaryCase{"Mul", Mul, [](double x, double y) { return x * y; }},
                              BinaryCase{"Div", Div, [](double x, double y) { return x / y; }}}) {
    for (const auto& [sa, sb] : cases) {
      SCOPED_TRACE(std::string(c.name) + " " + ShapeToString(sa) + " " + ShapeToString(sb));
      CheckOp({testing::RandomTensor(rng, sa, 0.5f, 2.f), testing::RandomTensor(rng, sb, 0.5f, 2.f)},
              [&](const std::vector<Tensor>& in) { return c.op(in[0], in[1]); },
              [&](const std::vector<Doubles>& in) { return General3(in[0], sa, in[1], sb, c.ref); });
    }
  }
  // A constant operand (an attention mask) gets no gradient; the other gets the upstream one.
  const Tensor scores = testing::RandomTensor(rng, {2, 3, 5}).set_requires_grad(true);
  const Tensor mask = testing::RandomTensor(rng, {2, 1, 5});
  SumAll(Mul(Add(scores, mask), Tensor::Full({2, 3, 5}, 3.f))).Backward();
  EXPECT_FALSE(mask.grad().defined());
  EXPECT_EQ(scores.grad().ToVector(), std::vector<float>(30, 3.f));
  // Rank alignment: a rank-2 [4, 1] broadcasts against [3, 4, 5].
  EXPECT_EQ(Add(Tensor::Zeros({4, 1}), Tensor::Zeros({3, 4, 5})).shape(), (Shape{3, 4, 5}));
}

TEST(ElementwiseTest, ScaleAddScalarBiasAdd) {
  std::mt19937 rng(2);
  const Tensor x = testing::RandomTensor(rng, {3, 1, 4});
  const Tensor bias = testing::RandomTensor(rng, {4});
  CheckOp({x}, [](const std::vector<Tensor>& in) { return Scale(in[0], -2.5f); },
          [](const std::vector<Doubles>& in) {
            Doubles out = in[0];
            for (double& v : out) v *= -2.5;
            return out;
          });
  CheckOp({x}, [](const std::vector<Tensor>& in) { return AddScalar(in[0], 0.75f); },
          [](const std::vector<Doubles>& in) {
            Doubles out = in[0];
            for (double& v : out) v += 0.75;
            return out;
          });
  CheckOp({x, bias}, [](const std::vector<Tensor>& in) { return BiasAdd(in[0], in[1]); },
          [](const std::vector<Doubles>& in) {
            return BroadcastRef(in[0], in[1], [](double a, double b) { return a + b; });
          });
}

TEST(ElementwiseTest, UnaryOps) {
  struct Case {
    UnaryKind kind;
    double (*ref)(double);
    float low, high;
  };
  const Case cases[] = {
      {UnaryKind::kRelu, [](double x) { return x > 0 ? x : 0.0; }, -2.f, 2.f},
      {UnaryKind::kGelu, [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }, -3.f, 3.f},
      {UnaryKind::kSilu, [](double x) { return x / (1 + std::exp(-x)); }, -4.f, 4.f},
      {UnaryKind::kCube, [](double x) { return x * x * x; }, -2.f, 2.f},
      {UnaryKind::kSoftplus, [](double x) { return std::log1p(std::exp(x)); }, -6.f, 6.f},
      {UnaryKind::kSigmoid, [](double x) { return 1 / (1 + std::exp(-x)); }, -5.f, 5.f},
      {UnaryKind::kTanh, [](double x) { return std::tanh(x); }, -3.f, 3.f},
      {UnaryKind::kExp, [](double x) { return std::exp(x); }, -2.f, 2.f},
      {UnaryKind::kLog, [](double x) { return std::log(x); }, 0.2f, 3.f},
      {UnaryKind::kNormalCdf, [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }, -3.f, 3.f},
  };
  std::mt19937 rng(3);
  for (const Case& c : cases) {
    SCOPED_TRACE(static_cast<int>(c.kind));
    const Tensor x = testing::RandomTensor(rng, testing::RandomShape(rng, 2), c.low, c.high);
    CheckOp({x}, [&](const std::vector<Tensor>& in) { return Unary(in[0], c.kind); },
            [&](const std::vector<Doubles>& in) {
              Doubles out = in[0];
              for (double& v : out) v = c.ref(v);
              return out;
            });
  }
}

TEST(ElementwiseTest, SoftplusStaysFiniteForLargeInputs) {
  const std::vector<float> y = Softplus(Tensor::FromVector({-100.f, 100.f}, {2})).ToVector();
  EXPECT_NEAR(y[0], 0.f, 1e-30);
  EXPECT_FLOAT_EQ(y[1], 100.f);
}

TEST(ElementwiseDeathTest, MismatchedShapesNameBothShapesAndTheOp) {
  const Tensor a = Tensor::Zeros({2, 3});
  const Tensor b = Tensor::Zeros({2});
  EXPECT_DEATH(Add(a, b), "Add: shapes \\[2, 3\\] and \\[2\\] do not broadcast");
  EXPECT_DEATH(Mul(Tensor::Zeros({2, 3}), Tensor::Zeros({3, 2})), "Mul: shapes \\[2, 3\\] and \\[3, 2\\] do not broadcast");
}

}  // namespace
}  // namespace onemodel::ops
