#include "core/testing/cuda_compare.h"

#include <cmath>
#include <cstdio>
#include <random>

#include "core/cuda_backend.h"
#include "core/ops/ops.h"
#include "gtest/gtest.h"

namespace onemodel::testing {

Tensor RandomCpu(const Shape& shape, float low, float high, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(low, high);
  Tensor t = Tensor::Empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

void ExpectCloseToCpu(const std::vector<float>& got, const std::vector<float>& want, float tolerance,
                      const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double mean = 0;
  for (float v : want) mean += std::abs(v) / std::max<size_t>(want.size(), 1);
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_LE(std::abs(got[i] - want[i]), tolerance * (std::abs(want[i]) + mean) + 1e-7)
        << what << " element " << i << ": cuda " << got[i] << ", cpu " << want[i];
  }
}

void CompareOnDevices(const std::vector<Tensor>& inputs, const std::function<Tensor(const std::vector<Tensor>&)>& op,
                      float tolerance) {
  std::vector<Tensor> cpu, gpu;
  for (const Tensor& t : inputs) {
    cpu.push_back(t.Clone().set_requires_grad(true));
    gpu.push_back(t.To(Device::CUDA()).set_requires_grad(true));
  }
  const Tensor y_cpu = op(cpu), y_gpu = op(gpu);
  ASSERT_EQ(y_gpu.device(), Device::CUDA());
  ASSERT_EQ(y_cpu.shape(), y_gpu.shape());
  ExpectCloseToCpu(y_gpu.ToVector(), y_cpu.ToVector(), tolerance, "output");
  const Tensor r = RandomCpu(y_cpu.shape(), -1, 1, 99);
  ops::SumAll(ops::Mul(y_cpu, r)).Backward();
  ops::SumAll(ops::Mul(y_gpu, r.To(Device::CUDA()))).Backward();
  for (size_t k = 0; k < inputs.size(); ++k) {
    ExpectCloseToCpu(gpu[k].grad().ToVector(), cpu[k].grad().ToVector(), tolerance,
                     "gradient of input " + std::to_string(k));
  }
}

}  // namespace onemodel::testing

// The main of every GPU test: "SKIPPED" and success without a CUDA build or device, so the tests can sit
// in the normal suite; tools/gpu_check.sh runs them where a GPU exists.
int main(int argc, char** argv) {
  if (onemodel::UsableCudaBackendOrSkip() == nullptr) return 0;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
