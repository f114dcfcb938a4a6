// CPU-vs-CUDA comparison for GPU tests, and a test main that skips without a CUDA build or device.
#ifndef ONEMODEL_CORE_TESTING_CUDA_COMPARE_H_
#define ONEMODEL_CORE_TESTING_CUDA_COMPARE_H_

#include <functional>
#include <string>
#include <vector>

#include "core/module.h"
#include "core/tensor.h"

namespace onemodel::testing {

// Uniform in [low, high) on the CPU, from a std::mt19937 seeded with `seed`.
Tensor RandomCpu(const Shape& shape, float low, float high, uint32_t seed);

// |got - want| <= tolerance * (|want| + mean |want|) elementwise, reported through gtest.
void ExpectCloseToCpu(const std::vector<float>& got, const std::vector<float>& want, float tolerance,
                      const std::string& what);

// Runs `op` on CPU copies and CUDA copies of `inputs`, then the backward of sum(out * R); compares the
// outputs and every input's gradient.
void CompareOnDevices(const std::vector<Tensor>& inputs, const std::function<Tensor(const std::vector<Tensor>&)>& op,
                      float tolerance = 1e-5f);

}  // namespace onemodel::testing

#endif  // ONEMODEL_CORE_TESTING_CUDA_COMPARE_H_
