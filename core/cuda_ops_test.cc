// CUDA kernels against the CPU implementation (the reference). Without a CUDA build or device it prints
// SKIPPED and passes, so it can run in every test suite; tools/gpu_check.sh runs it where a GPU exists.
#include <cmath>
#include <cstdio>
#include <random>

#include "core/autograd.h"
#include "core/cuda_backend.h"
#include "core/ops/ops.h"
#include "gtest/gtest.h"

namespace onemodel {
namespace {

Tensor RandomCpu(const Shape& shape, float low, float high, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(low, high);
  Tensor t = Tensor::Empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

void ExpectClose(const std::vector<float>& cuda, const std::vector<float>& cpu, const char* what) {
  ASSERT_EQ(cuda.size(), cpu.size());
  for (size_t i = 0; i < cpu.size(); ++i) {
    ASSERT_LE(std::abs(cuda[i] - cpu[i]), 1e-5f * std::abs(cpu[i]) + 1e-6f)
        << what << " element " << i << ": cuda " << cuda[i] << ", cpu " << cpu[i];
  }
}

TEST(CudaOpsTest, CopiesRoundTrip) {
  const Tensor host = RandomCpu({3, 1000}, -1, 1, 1);
  const Tensor device = host.To(Device::CUDA());
  EXPECT_EQ(device.device(), Device::CUDA());
  EXPECT_EQ(device.ToVector(), host.ToVector());
  EXPECT_EQ(Tensor::Zeros({5}, DType::kF32, Device::CUDA()).ToVector(), std::vector<float>(5, 0.f));
}

TEST(CudaOpsTest, UnaryForwardAndBackwardMatchCpu) {
  const std::pair<UnaryKind, std::pair<float, float>> cases[] = {
      {UnaryKind::kRelu, {-3, 3}},     {UnaryKind::kGelu, {-4, 4}},     {UnaryKind::kSilu, {-6, 6}},
      {UnaryKind::kCube, {-2, 2}},     {UnaryKind::kSoftplus, {-8, 8}}, {UnaryKind::kSigmoid, {-8, 8}},
      {UnaryKind::kTanh, {-4, 4}},     {UnaryKind::kExp, {-4, 4}},      {UnaryKind::kLog, {0.1f, 5}},
      {UnaryKind::kNormalCdf, {-4, 4}},
  };
  for (const auto& [kind, range] : cases) {
    SCOPED_TRACE(static_cast<int>(kind));
    // Sizes that are not a multiple of the block, and one that needs the grid-stride loop.
    for (int64_t n : {1, 1000, 70000 * 257}) {
      Tensor x_cpu = RandomCpu({n}, range.first, range.second, static_cast<uint32_t>(n));
      Tensor x_cuda = x_cpu.To(Device::CUDA());
      x_cpu.set_requires_grad(true);
      x_cuda.set_requires_grad(true);
      const Tensor y_cpu = ops::Unary(x_cpu, kind);
      const Tensor y_cuda = ops::Unary(x_cuda, kind);
      ExpectClose(y_cuda.ToVector(), y_cpu.ToVector(), "forward");
      // Backward with an upstream gradient of ones (the CUDA path: Sum is CPU-only, so call the node).
      const Tensor ones = Tensor::Full({n}, 1.f);
      const Tensor g_cpu = y_cpu.grad_fn()->backward(ones, y_cpu)[0];
      const Tensor g_cuda = y_cuda.grad_fn()->backward(ones.To(Device::CUDA()), y_cuda)[0];
      ExpectClose(g_cuda.ToVector(), g_cpu.ToVector(), "backward");
    }
  }
}

}  // namespace
}  // namespace onemodel

int main(int argc, char** argv) {
  onemodel::CudaBackend* backend = onemodel::GetCudaBackend();
  if (backend == nullptr) {
    std::printf("SKIPPED: no CUDA device (built without --config=cuda)\n");
    return 0;
  }
  std::string why;
  if (!backend->DeviceAvailable(&why)) {
    std::printf("SKIPPED: no CUDA device (%s)\n", why.c_str());
    return 0;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
