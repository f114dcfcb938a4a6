// The MoE layer training step on the GPU, f32 (T = 16384, d = 1024, d_ff = 4096, E = 8, k = 2, GELU), against
// PyTorch eager on the same device in the same run (tools/bench/moe_torch.py --device cuda, with the python3
// that holds PyTorch, or $ONEMODEL_TORCH_PYTHON). bf16 comes with the mixed-precision work of the CUDA issue.
// Prints SKIPPED without a CUDA build or device.
#include <algorithm>
#include <chrono>
#include <vector>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "configs/config.h"
#include "core/cuda_backend.h"
#include "core/ops/ops.h"
#include "core/optim.h"
#include "core/rng.h"
#include "moe/moe_layer.h"

namespace onemodel::moe {
namespace {

constexpr int64_t kTokens = 16384, kDim = 1024, kHidden = 4096;

void Run(CudaBackend& cuda) {
  auto experiment = ParseExperiment(
      "moe { num_experts: 8 hidden: 4096 activation: GELU load_balance_coef: 0.01 z_loss_coef: 0 "
      "router { kind: NOISY_TOP_K top_k: 2 capacity_factor_train: 1.25 } }",
      "moe_cuda_bench");
  CHECK(experiment.ok());
  MoeLayer layer(experiment->moe(), kDim, 1, 1);
  layer.To(Device::CUDA());
  Sgd sgd(layer.NamedParameters(), {});
  const Tensor x = RandomNormal({kTokens, kDim}, RngKey{3}, 0, 1, 0, Device::CUDA());
  const Tensor target = RandomNormal({kTokens, kDim}, RngKey{4}, 0, 0.01f, 0, Device::CUDA());
  uint32_t step = 0;
  auto train_step = [&] {
    sgd.ZeroGrad();
    const MoeOutput out = layer.Forward(x, ++step, true);
    ops::Add(ops::SumAll(ops::Mul(out.y, target)), out.aux_loss).Backward();
    sgd.Step(1e-3f);
  };
  for (int i = 0; i < 2; ++i) train_step();
  cuda.Synchronize();
  std::vector<double> times;
  for (int i = 0; i < 7; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    train_step();
    cuda.Synchronize();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() * 1e3);
  }
  std::sort(times.begin(), times.end());
  const double ms = times[times.size() / 2];
  const double tflops = 12.0 * kTokens * 2 * kDim * kHidden / (ms * 1e-3) / 1e12;
  std::printf("MoE layer step on GPU (f32, T=%lld d=%lld d_ff=%lld E=8 k=2): %.2f ms, %.1f TFLOP/s\n",
              static_cast<long long>(kTokens), static_cast<long long>(kDim), static_cast<long long>(kHidden), ms, tflops);

  const char* env = std::getenv("ONEMODEL_TORCH_PYTHON");
  const std::string command = std::string(env ? env : "python3") +
                              " tools/bench/moe_torch.py --device cuda --activation gelu --tokens 16384 --dim 1024 "
                              "--hidden 4096 2>&1";
  double torch_ms = 0, dense_ms = 0;
  char version[64] = {0}, line[512];
  if (FILE* pipe = popen(command.c_str(), "r")) {
    while (std::fgets(line, sizeof(line), pipe)) {
      std::sscanf(line, "TORCH moe ms_per_step=%lf dense_ms=%lf torch=%63s", &torch_ms, &dense_ms, version);
    }
    pclose(pipe);
  }
  if (torch_ms > 0) {
    std::printf("PyTorch %s eager, same step on the same GPU: %.2f ms (dense FFN %.2f ms)\n", version, torch_ms, dense_ms);
    std::printf("BENCH gpu_moe_f32 ms_per_step=%.2f tflops=%.1f torch_ms=%.2f speedup_vs_torch=%.2f\n", ms, tflops,
                torch_ms, torch_ms / ms);
  } else {
    std::printf("BENCH gpu_moe_f32 ms_per_step=%.2f tflops=%.1f torch=unavailable\n", ms, tflops);
  }
}

}  // namespace
}  // namespace onemodel::moe

int main() {
  onemodel::CudaBackend* cuda = onemodel::UsableCudaBackendOrSkip();
  if (cuda != nullptr) onemodel::moe::Run(*cuda);
  return 0;
}
