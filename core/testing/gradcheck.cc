#include "core/testing/gradcheck.h"

#include <cmath>

#include "core/autograd.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "gtest/gtest.h"

namespace onemodel::testing {

Tensor RandomTensor(std::mt19937& rng, const Shape& shape, float low, float high) {
  std::uniform_real_distribution<float> dist(low, high);
  Tensor t = Tensor::Empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

Shape RandomShape(std::mt19937& rng, int rank, int64_t max_dim) {
  std::uniform_int_distribution<int64_t> dist(1, max_dim);
  Shape s(rank);
  for (auto& d : s) d = dist(rng);
  return s;
}

Doubles ToDoubles(const Tensor& t) {
  std::vector<float> v = t.ToVector();
  return Doubles(v.begin(), v.end());
}

void CheckOp(const std::vector<Tensor>& inputs, const OpUnderTest& op, const Reference& reference,
             Tolerance tol) {
  std::vector<Tensor> leaves;
  std::vector<Doubles> xs;
  for (const Tensor& t : inputs) {
    leaves.push_back(t.Clone().set_requires_grad(true));
    xs.push_back(ToDoubles(t));
  }
  const Tensor out = op(leaves);
  const Doubles expected = reference(xs);
  const std::vector<float> got = out.ToVector();
  ASSERT_EQ(got.size(), expected.size()) << "output size differs from the reference's";
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_LE(std::abs(got[i] - expected[i]), tol.forward * std::max(1.0, std::abs(expected[i])))
        << "forward element " << i << ": ours " << got[i] << ", reference " << expected[i];
  }

  std::mt19937 rng(1234);
  const Tensor weights = RandomTensor(rng, out.shape(), -1.f, 1.f);
  const Doubles w = ToDoubles(weights);
  ops::SumAll(ops::Mul(out, weights)).Backward();
  auto weighted = [&](const std::vector<Doubles>& in) {
    const Doubles y = reference(in);
    double s = 0;
    for (size_t i = 0; i < y.size(); ++i) s += y[i] * w[i];
    return s;
  };
  for (size_t k = 0; k < leaves.size(); ++k) {
    Doubles fd(xs[k].size());
    for (size_t j = 0; j < xs[k].size(); ++j) {
      const double h = 1e-5 * std::max(1.0, std::abs(xs[k][j]));
      std::vector<Doubles> plus = xs, minus = xs;
      plus[k][j] += h;
      minus[k][j] -= h;
      fd[j] = (weighted(plus) - weighted(minus)) / (2 * h);
    }
    double rms = 0;
    for (double v : fd) rms += v * v;
    rms = std::sqrt(rms / std::max<size_t>(fd.size(), 1));
    const Tensor grad = leaves[k].grad();
    ASSERT_TRUE(grad.defined()) << "input " << k << " got no gradient";
    const std::vector<float> g = grad.ToVector();
    for (size_t j = 0; j < fd.size(); ++j) {
      ASSERT_LE(std::abs(g[j] - fd[j]), tol.grad * (std::abs(fd[j]) + 0.1 * rms) + 1e-6)
          << "gradient of input " << k << " (shape " << ShapeToString(inputs[k].shape()) << ") element " << j
          << ": ours " << g[j] << ", finite differences " << fd[j];
    }
  }
}

namespace {
// The smallest slope an f32 finite difference can resolve: a few ulps of the objective over the step.
double FloatResolution(double plus, double minus, double step) {
  return 1e-5 + 8 * 1.1920929e-7 * (std::abs(plus) + std::abs(minus)) / (2 * step);
}
}  // namespace

void CheckGradientsNumerically(const std::vector<Tensor>& inputs, const OpUnderTest& op, double step,
                               double tolerance) {
  std::vector<Tensor> leaves;
  for (const Tensor& t : inputs) leaves.push_back(t.Clone().set_requires_grad(true));
  const Tensor out = op(leaves);
  std::mt19937 rng(4321);
  const Tensor weights = RandomTensor(rng, out.shape(), -1.f, 1.f);
  ops::SumAll(ops::Mul(out, weights)).Backward();
  auto weighted = [&](const std::vector<Tensor>& in) {
    NoGradScope no_grad;
    const std::vector<float> y = op(in).ToVector(), w = weights.ToVector();
    double s = 0;
    for (size_t i = 0; i < y.size(); ++i) s += static_cast<double>(y[i]) * w[i];
    return s;
  };
  for (size_t k = 0; k < leaves.size(); ++k) {
    std::vector<Tensor> probe;
    for (const Tensor& t : inputs) probe.push_back(t.Clone());
    const int64_t n = probe[k].numel();
    Doubles fd(n), resolution(n);
    for (int64_t j = 0; j < n; ++j) {
      float* p = probe[k].data<float>() + j;
      const float original = *p;
      *p = original + static_cast<float>(step);
      const double plus = weighted(probe);
      *p = original - static_cast<float>(step);
      const double minus = weighted(probe);
      *p = original;
      fd[j] = (plus - minus) / (2 * step);
      resolution[j] = FloatResolution(plus, minus, step);
    }
    double rms = 0;
    for (double v : fd) rms += v * v;
    rms = std::sqrt(rms / std::max<int64_t>(n, 1));
    const Tensor grad = leaves[k].grad();
    ASSERT_TRUE(grad.defined()) << "input " << k << " got no gradient";
    const std::vector<float> g = grad.ToVector();
    for (int64_t j = 0; j < n; ++j) {
      ASSERT_LE(std::abs(g[j] - fd[j]), tolerance * (std::abs(fd[j]) + rms) + resolution[j])
          << "gradient of input " << k << " (shape " << ShapeToString(inputs[k].shape()) << ") element " << j
          << ": ours " << g[j] << ", finite differences " << fd[j];
    }
  }
}

void CheckParameterGradients(const NamedTensors& params, const std::function<Tensor()>& loss, double step,
                             double tolerance) {
  for (const auto& [_, p] : params) const_cast<Tensor&>(p).ZeroGrad();
  loss().Backward();
  auto value = [&] {
    NoGradScope no_grad;
    return static_cast<double>(loss().item());
  };
  for (const auto& [name, p] : params) {
    const Tensor grad = p.grad();
    ASSERT_TRUE(grad.defined()) << "parameter " << name << " got no gradient";
    const std::vector<float> g = grad.ToVector();
    Doubles fd(p.numel()), resolution(p.numel());
    for (int64_t j = 0; j < p.numel(); ++j) {
      float* x = p.data<float>() + j;
      const float original = *x;
      *x = original + static_cast<float>(step);
      const double plus = value();
      *x = original - static_cast<float>(step);
      const double minus = value();
      *x = original;
      fd[j] = (plus - minus) / (2 * step);
      resolution[j] = FloatResolution(plus, minus, step);
    }
    double rms = 0;
    for (double v : fd) rms += v * v;
    rms = std::sqrt(rms / std::max<int64_t>(p.numel(), 1));
    for (int64_t j = 0; j < p.numel(); ++j) {
      ASSERT_LE(std::abs(g[j] - fd[j]), tolerance * (std::abs(fd[j]) + rms) + resolution[j])
          << "gradient of parameter " << name << " element " << j << ": ours " << g[j] << ", finite differences "
          << fd[j];
    }
  }
}

}  // namespace onemodel::testing
