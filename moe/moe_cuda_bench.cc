// The MoE layer training step on the GPU (T = 16384, d = 1024, d_ff = 4096, E = 8, k = 2, GELU, SGD), in f32
// and in bf16 mixed precision (expert products in bf16 with f32 accumulation, router in f32), against PyTorch
// eager on the same device in the same run (tools/bench/moe_torch.py --device cuda, f32 and --amp bf16, with the
// python3 that holds PyTorch, or $ONEMODEL_TORCH_PYTHON). It also times the step's expert GEMMs alone in bf16
// (the six grouped products of forward and backward at the step's per-expert row counts) against one 8192^3
// bf16 product through the same cuBLAS call. Last line:
//   BENCH gpu_moe speedup_vs_torch=.. gemm_fraction=.. ...
// Prints SKIPPED without a CUDA build or device.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "configs/config.h"
#include "core/cuda_backend.h"
#include "core/ops/ops.h"
#include "core/optim.h"
#include "core/rng.h"
#include "moe/moe_layer.h"

namespace onemodel::moe {
namespace {

constexpr int64_t kTokens = 16384, kDim = 1024, kHidden = 4096, kExperts = 8;

// ONEMODEL_BENCH_PROFILE=1: the bf16 layer step alone in a fresh process (for a profiler's kernel table, and
// to see it apart from the f32 run before it).
bool ProfileOnly() {
  const char* env = std::getenv("ONEMODEL_BENCH_PROFILE");
  return env != nullptr && std::string(env) == "1";
}

// Median milliseconds of `fn` over 7 runs (ONEMODEL_BENCH_RUNS to change) after 2 warm-ups, the device drained
// around each; the fastest and slowest run in *range when given.
double MedianMs(CudaBackend& cuda, const std::function<void()>& fn, std::pair<double, double>* range = nullptr) {
  const char* env = std::getenv("ONEMODEL_BENCH_RUNS");
  const int warmups = 2, runs = env != nullptr ? std::max(1, std::atoi(env)) : 7;
  for (int i = 0; i < warmups; ++i) fn();
  cuda.Synchronize();
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    cuda.Synchronize();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() * 1e3);
  }
  std::sort(times.begin(), times.end());
  if (range != nullptr) *range = {times.front(), times.back()};
  return times[times.size() / 2];
}

struct Step {
  double ms = 0;
  std::pair<double, double> range;       // fastest and slowest of the timed steps
  std::vector<int64_t> rows_per_expert;  // kept rows of the last step
  int64_t device_allocations = 0;        // cudaMalloc calls over the warm-up and timed steps
  double host_ms = 0;                    // of the last step: the host's time until it had queued everything,
  double host_forward_ms = 0;            // of it in the forward and in the backward
  double host_backward_ms = 0;
  int64_t host_copies = 0;               // of the last step: copies that made the host wait, and the time in them
  double host_copy_ms = 0;
  int64_t host_uploads = 0;              // of the last step: uploads queued without waiting
  int64_t device_calls = 0;              // of the last step: kernel launches and GEMMs
};

Step TimeLayerStep(CudaBackend& cuda, ops::MatmulPrecision precision) {
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
  RoutingStats stats;
  Step result;
  std::chrono::steady_clock::time_point forward_done, backward_done;
  const auto train_step = [&] {
    sgd.ZeroGrad();
    MoeOutput out;
    {
      const ops::MatmulPrecisionScope scope(precision);
      out = layer.Forward(x, ++step, true);
    }
    forward_done = std::chrono::steady_clock::now();
    ops::Add(ops::SumAll(ops::Mul(out.y, target)), out.aux_loss).Backward();
    backward_done = std::chrono::steady_clock::now();
    sgd.Step(1e-3f);
    stats = out.stats;
  };
  const int64_t allocations = cuda.Memory().device_allocations;
  result.ms = MedianMs(cuda, train_step, &result.range);
  result.device_allocations = cuda.Memory().device_allocations - allocations;
  // One more step, timed on the host: until everything is queued, and inside host copies (their waits).
  const CudaBackend::MemoryStats before = cuda.Memory();
  const auto t0 = std::chrono::steady_clock::now();
  train_step();
  const auto ms = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count() * 1e3; };
  result.host_ms = ms(t0, std::chrono::steady_clock::now());
  result.host_forward_ms = ms(t0, forward_done);
  result.host_backward_ms = ms(forward_done, backward_done);
  cuda.Synchronize();
  const CudaBackend::MemoryStats after = cuda.Memory();
  result.host_copies = after.host_copies - before.host_copies;
  result.host_copy_ms = (after.host_copy_seconds - before.host_copy_seconds) * 1e3;
  result.host_uploads = after.host_uploads - before.host_uploads;
  result.device_calls = after.device_calls - before.device_calls;
  const double kept = kTokens * 2 * (1 - stats.drop_rate);
  for (double fraction : stats.load) result.rows_per_expert.push_back(std::llround(fraction * kept));
  return result;
}

// The six expert products of one step (forward: h = x w_in, y = h w_out; backward: dh = dy w_out^T,
// dw_out = h^T dy, dx = dh w_in^T, dw_in = x^T dh), bf16 operands and f32 results, as ops::GroupedMatMul runs
// them under bf16. Returns TFLOP/s.
double ExpertGemmTflops(CudaBackend& cuda, const std::vector<int64_t>& rows_per_expert) {
  int64_t rows = 0;
  for (int64_t r : rows_per_expert) rows += r;
  const Tensor x = Tensor::Zeros({rows, kDim}, DType::kBF16, Device::CUDA());
  const Tensor h = Tensor::Zeros({rows, kHidden}, DType::kBF16, Device::CUDA());
  const Tensor w_in = Tensor::Zeros({kExperts, kDim, kHidden}, DType::kBF16, Device::CUDA());
  const Tensor w_out = Tensor::Zeros({kExperts, kHidden, kDim}, DType::kBF16, Device::CUDA());
  const Tensor out_hidden = Tensor::Empty({rows, kHidden}, DType::kF32, Device::CUDA());
  const Tensor out_dim = Tensor::Empty({rows, kDim}, DType::kF32, Device::CUDA());
  const Tensor out_weight = Tensor::Empty({kExperts, kDim, kHidden}, DType::kF32, Device::CUDA());
  const auto bf16 = [](const Tensor& t) { return static_cast<const uint16_t*>(t.raw_data()); };
  const auto f32 = [](const Tensor& t) { return static_cast<float*>(t.raw_data()); };
  const double ms = MedianMs(cuda, [&] {
    int64_t first = 0;
    for (int64_t e = 0; e < kExperts; ++e) {
      const int64_t r = rows_per_expert[e];
      // x stands in for dy and h for dh: same shapes, same calls.
      const uint16_t *xe = bf16(x) + first * kDim, *he = bf16(h) + first * kHidden;
      const uint16_t *wi = bf16(w_in) + e * kDim * kHidden, *wo = bf16(w_out) + e * kDim * kHidden;
      float *oh = f32(out_hidden) + first * kHidden, *od = f32(out_dim) + first * kDim;
      float* ow = f32(out_weight) + e * kDim * kHidden;
      cuda.GemmBF16(false, false, r, kHidden, kDim, 1.f, xe, wi, 0.f, oh, {});  // h = x w_in
      cuda.GemmBF16(false, false, r, kDim, kHidden, 1.f, he, wo, 0.f, od, {});  // y = h w_out
      cuda.GemmBF16(false, true, r, kHidden, kDim, 1.f, xe, wo, 0.f, oh, {});   // dh = dy w_out^T
      cuda.GemmBF16(true, false, kHidden, kDim, r, 1.f, he, xe, 0.f, ow, {});   // dw_out = h^T dy
      cuda.GemmBF16(false, true, r, kDim, kHidden, 1.f, he, wi, 0.f, od, {});   // dx = dh w_in^T
      cuda.GemmBF16(true, false, kDim, kHidden, r, 1.f, xe, he, 0.f, ow, {});   // dw_in = x^T dh
      first += r;
    }
  });
  return 12.0 * rows * kDim * kHidden / (ms * 1e-3) / 1e12;
}

double PeakGemmTflops(CudaBackend& cuda) {
  constexpr int64_t n = 8192;
  const Tensor a = Tensor::Zeros({n, n}, DType::kBF16, Device::CUDA());
  const Tensor c = Tensor::Empty({n, n}, DType::kF32, Device::CUDA());
  const auto* pa = static_cast<const uint16_t*>(a.raw_data());
  float* pc = static_cast<float*>(c.raw_data());
  const double ms = MedianMs(cuda, [&] { cuda.GemmBF16(false, false, n, n, n, 1.f, pa, pa, 0.f, pc, {}); });
  return 2.0 * n * n * n / (ms * 1e-3) / 1e12;
}

// PyTorch's step time in ms (0 when PyTorch is not there), and its version.
double TorchMs(const std::string& amp, std::string* version) {
  const char* env = std::getenv("ONEMODEL_TORCH_PYTHON");
  const std::string command = std::string(env ? env : "python3") +
                              " tools/bench/moe_torch.py --device cuda --activation gelu --tokens 16384 --dim 1024 "
                              "--hidden 4096 --amp " + amp + " 2>&1";
  double torch_ms = 0, dense_ms = 0;
  char found[64] = {0}, line[512];
  if (FILE* pipe = popen(command.c_str(), "r")) {
    while (std::fgets(line, sizeof(line), pipe)) {
      std::sscanf(line, "TORCH moe ms_per_step=%lf dense_ms=%lf torch=%63s", &torch_ms, &dense_ms, found);
    }
    pclose(pipe);
  }
  *version = found;
  return torch_ms;
}

// The bf16 cast of the mixed-precision products, GB/s read + written.
double CastGbps(CudaBackend& cuda) {
  constexpr int64_t n = kTokens * 2 * kHidden;  // the step's largest operand, the expert hidden rows
  const Tensor x = Tensor::Zeros({n}, DType::kF32, Device::CUDA());
  const Tensor out = Tensor::Empty({n}, DType::kBF16, Device::CUDA());
  const double ms = MedianMs(cuda, [&] {
    cuda.ToBF16(static_cast<const float*>(x.raw_data()), static_cast<uint16_t*>(out.raw_data()), n);
  });
  return 6.0 * n / (ms * 1e-3) / 1e9;
}

// The host's cost of one kernel launch (1,000 launches of a one-element kernel, queued without waiting) and of
// one synchronous 4-byte copy back, in microseconds: the floor under a step of many small operations.
std::pair<double, double> HostApiMicros(CudaBackend& cuda) {
  const Tensor x = Tensor::Zeros({1}, DType::kF32, Device::CUDA());
  float* p = static_cast<float*>(x.raw_data());
  float host = 0;
  constexpr int kCalls = 1000;
  cuda.Synchronize();
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i) cuda.ScaleShift(p, p, 1, 1.f, 0.f);
  const double launch = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / kCalls;
  cuda.Synchronize();
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i) cuda.Copy(&host, false, p, true, sizeof(float));
  const double copy = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / kCalls;
  return {launch * 1e6, copy * 1e6};
}

// The host's cost of queuing one bf16 expert GEMM (m x 4096 x 1024, as a step's first product), in microseconds:
// 100 calls of one shape, then 100 calls each with a row count not seen before (as a step's experts get).
std::pair<double, double> GemmHostMicros(CudaBackend& cuda) {
  constexpr int kCalls = 100;
  constexpr int64_t kRows = 4096;
  const Tensor x = Tensor::Zeros({kRows + kCalls, kDim}, DType::kBF16, Device::CUDA());
  const Tensor w = Tensor::Zeros({kDim, kHidden}, DType::kBF16, Device::CUDA());
  const Tensor out = Tensor::Empty({kRows + kCalls, kHidden}, DType::kF32, Device::CUDA());
  const auto* px = static_cast<const uint16_t*>(x.raw_data());
  const auto* pw = static_cast<const uint16_t*>(w.raw_data());
  float* po = static_cast<float*>(out.raw_data());
  const auto host_us = [&](int64_t first_rows, int64_t rows_step) {
    cuda.Synchronize();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kCalls; ++i) {
      cuda.GemmBF16(false, false, first_rows + i * rows_step, kHidden, kDim, 1.f, px, pw, 0.f, po, {});
    }
    const double us = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / kCalls * 1e6;
    cuda.Synchronize();
    return us;
  };
  host_us(kRows, 0);  // warm-up: this shape is known afterwards
  const double same = host_us(kRows, 0);
  return {same, host_us(kRows - 3 * kCalls, 1)};
}

void Run(CudaBackend& cuda) {
  const auto [launch_us, copy_us] = HostApiMicros(cuda);
  std::printf("host cost of a kernel launch %.1f us, of a synchronous 4-byte copy back %.1f us\n", launch_us, copy_us);
  const auto [gemm_same_us, gemm_new_us] = GemmHostMicros(cuda);
  std::printf("host cost of queuing a bf16 expert GEMM: %.1f us for a shape seen before, %.1f us for a new row count\n",
              gemm_same_us, gemm_new_us);
  if (ProfileOnly()) {
    const Step step = TimeLayerStep(cuda, ops::MatmulPrecision::kBF16);
    std::printf("profile: bf16 step %.2f ms (%.2f-%.2f), %lld cudaMalloc calls; host %.2f ms to queue a step, %lld "
                "waiting host copies taking %.2f ms, %lld uploads, %lld kernel launches and GEMMs\n", step.ms,
                step.range.first, step.range.second, static_cast<long long>(step.device_allocations), step.host_ms,
                static_cast<long long>(step.host_copies), step.host_copy_ms, static_cast<long long>(step.host_uploads),
                static_cast<long long>(step.device_calls));
    return;
  }
  std::printf("bf16 cast of %lld values: %.0f GB/s\n", static_cast<long long>(kTokens * 2 * kHidden), CastGbps(cuda));
  const Step f32 = TimeLayerStep(cuda, ops::MatmulPrecision::kF32);
  const Step bf16 = TimeLayerStep(cuda, ops::MatmulPrecision::kBF16);
  const double flop = 12.0 * kTokens * 2 * kDim * kHidden;
  std::printf("MoE layer step on GPU (T=%lld d=%lld d_ff=%lld E=8 k=2, GELU, SGD): f32 %.2f ms (%.2f-%.2f, %.0f "
              "TFLOP/s), bf16 mixed precision %.2f ms (%.2f-%.2f, %.0f TFLOP/s)\n",
              static_cast<long long>(kTokens), static_cast<long long>(kDim), static_cast<long long>(kHidden), f32.ms,
              f32.range.first, f32.range.second, flop / (f32.ms * 1e-3) / 1e12, bf16.ms, bf16.range.first,
              bf16.range.second, flop / (bf16.ms * 1e-3) / 1e12);
  std::printf("cudaMalloc calls over the 9 steps: f32 %lld, bf16 %lld; device memory held %.1f GB; products "
              "cuBLASLt declined so far: %lld\n",
              static_cast<long long>(f32.device_allocations), static_cast<long long>(bf16.device_allocations),
              cuda.Memory().bytes_held / 1e9, static_cast<long long>(cuda.Memory().classic_gemms));
  std::printf("bf16 step on the host: %.2f ms until all is queued (forward %.2f, backward %.2f), of which %.2f ms in "
              "%lld copies that wait for the kernels queued before them; %lld uploads queued without waiting; %lld "
              "kernel launches and GEMMs\n",
              bf16.host_ms, bf16.host_forward_ms, bf16.host_backward_ms, bf16.host_copy_ms,
              static_cast<long long>(bf16.host_copies), static_cast<long long>(bf16.host_uploads),
              static_cast<long long>(bf16.device_calls));
  const double peak = PeakGemmTflops(cuda);
  const double experts = ExpertGemmTflops(cuda, bf16.rows_per_expert);
  std::string rows;
  for (int64_t r : bf16.rows_per_expert) rows += (rows.empty() ? "" : ",") + std::to_string(r);
  std::printf("cuBLAS bf16 8192^3: %.0f TFLOP/s; the step's expert GEMMs alone (rows per expert %s): %.0f TFLOP/s "
              "= %.2f of it\n", peak, rows.c_str(), experts, experts / peak);
  std::string version;
  const double torch_f32 = TorchMs("none", &version);
  const double torch_bf16 = TorchMs("bf16", &version);
  if (torch_f32 > 0 && torch_bf16 > 0) {
    std::printf("PyTorch %s eager, same step on the same GPU: f32 %.2f ms, bf16 autocast %.2f ms\n", version.c_str(),
                torch_f32, torch_bf16);
    std::printf("BENCH gpu_moe speedup_vs_torch=%.2f gemm_fraction=%.2f ms_per_step=%.2f torch_ms=%.2f "
                "f32_ms=%.2f torch_f32_ms=%.2f\n",
                torch_bf16 / bf16.ms, experts / peak, bf16.ms, torch_bf16, f32.ms, torch_f32);
  } else {
    std::printf("BENCH gpu_moe speedup_vs_torch=unavailable gemm_fraction=%.2f ms_per_step=%.2f f32_ms=%.2f\n",
                experts / peak, bf16.ms, f32.ms);
  }
}

}  // namespace
}  // namespace onemodel::moe

int main() {
  onemodel::CudaBackend* cuda = onemodel::UsableCudaBackendOrSkip();
  if (cuda != nullptr) onemodel::moe::Run(*cuda);
  return 0;
}
