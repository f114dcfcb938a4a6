// Checks an op against an independent double-precision reference: the forward values, and the backward
// pass against central finite differences of the reference (so the check is not limited by f32 rounding).
#ifndef ONEMODEL_CORE_TESTING_GRADCHECK_H_
#define ONEMODEL_CORE_TESTING_GRADCHECK_H_

#include <functional>
#include <random>
#include <vector>

#include "core/module.h"
#include "core/tensor.h"

namespace onemodel::testing {

using Doubles = std::vector<double>;
// Reference: flattened double inputs -> flattened double output (row-major, same order as the op's output).
using Reference = std::function<Doubles(const std::vector<Doubles>& inputs)>;
using OpUnderTest = std::function<Tensor(const std::vector<Tensor>& inputs)>;

struct Tolerance {
  double forward = 1e-4;  // |ours - ref| <= forward * max(1, |ref|)
  double grad = 1e-3;     // |ours - fd| <= grad * (|fd| + 0.1 * rms(fd)) + 1e-6
};

// Runs op and reference on `inputs` (f32; each gets a gradient), compares outputs, then the gradient of
// sum(output * R) for a fixed random R against finite differences of the reference. Reports through gtest.
void CheckOp(const std::vector<Tensor>& inputs, const OpUnderTest& op, const Reference& reference,
             Tolerance tolerance = {});

// For composite layers with no independent reference (MoE layers): the backward pass against central
// finite differences of the op itself, in f32. Steps must not flip discrete choices (top-k, capacity), so
// use inputs whose router logits are well separated. Tolerance: |ours - fd| <= tol * (|fd| + rms(fd)).
void CheckGradientsNumerically(const std::vector<Tensor>& inputs, const OpUnderTest& op, double step = 1e-2,
                               double tolerance = 2e-2);

// The same check for the parameters of a module: `loss` builds a scalar from the module's current
// parameters; each parameter element is perturbed in place and restored.
void CheckParameterGradients(const NamedTensors& params, const std::function<Tensor()>& loss, double step = 1e-2,
                             double tolerance = 2e-2);

// Test inputs: uniform in [low, high).
Tensor RandomTensor(std::mt19937& rng, const Shape& shape, float low = -1.f, float high = 1.f);
// A shape of `rank` dims drawn from {1, ..., max_dim}; size-1 dims come up often on purpose.
Shape RandomShape(std::mt19937& rng, int rank, int64_t max_dim = 5);
Doubles ToDoubles(const Tensor& t);

}  // namespace onemodel::testing

#endif  // ONEMODEL_CORE_TESTING_GRADCHECK_H_
