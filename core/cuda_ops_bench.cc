// GPU elementwise benchmark: gelu forward and backward on 64M f32 values, as achieved GB/s against a
// device-to-device copy of the same tensor in the same run. Prints SKIPPED without a CUDA build or device.
// Run: bazel run --config=cuda //core:cuda_ops_bench   (tools/gpu_check.sh runs it on a GPU machine)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>

#include "core/autograd.h"
#include "core/cuda_backend.h"
#include "core/ops/elementwise.h"
#include "core/rng.h"

namespace onemodel {
namespace {

double BestSeconds(CudaBackend& cuda, const std::function<void()>& fn) {
  fn();
  cuda.Synchronize();
  double best = 1e30;
  for (int i = 0; i < 10; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    cuda.Synchronize();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

void Run(CudaBackend& cuda) {
  const int64_t n = int64_t{64} << 20;
  Tensor x = RandomNormal({n}, RngKey{1}).To(Device::CUDA());
  const Tensor g = RandomNormal({n}, RngKey{2}).To(Device::CUDA());
  Tensor copy = Tensor::Empty({n}, DType::kF32, Device::CUDA());
  const double bytes = 4.0 * n;
  const double copy_s = BestSeconds(cuda, [&] { copy.CopyFrom(x); });
  x.set_requires_grad(true);
  Tensor y;
  const double fwd_s = BestSeconds(cuda, [&] { y = ops::Gelu(x); });
  const double bwd_s = BestSeconds(cuda, [&] { y.grad_fn()->backward(g, y); });
  const double copy_gbps = 2 * bytes / copy_s / 1e9;
  const double fwd_gbps = 2 * bytes / fwd_s / 1e9;  // read x, write y
  const double bwd_gbps = 4 * bytes / bwd_s / 1e9;  // read x, y, g; write dx
  std::printf("device copy %.3f ms (%.0f GB/s); gelu forward %.3f ms (%.0f GB/s), backward %.3f ms (%.0f GB/s)\n",
              copy_s * 1e3, copy_gbps, fwd_s * 1e3, fwd_gbps, bwd_s * 1e3, bwd_gbps);
  std::printf("BENCH cuda_ops gelu_fwd_gbps=%.0f gelu_bwd_gbps=%.0f copy_gbps=%.0f gelu_fwd_over_copy=%.2f "
              "gelu_bwd_over_copy=%.2f\n",
              fwd_gbps, bwd_gbps, copy_gbps, fwd_gbps / copy_gbps, bwd_gbps / copy_gbps);
}

}  // namespace
}  // namespace onemodel

int main() {
  onemodel::CudaBackend* cuda = onemodel::UsableCudaBackendOrSkip();
  if (cuda != nullptr) onemodel::Run(*cuda);
  return 0;
}
