// MoE FFN training step on the CPU: T = 4096 tokens, d = 512, d_ff = 1024, E = 8, k = 2, cf = 1.25,
// noisy top-k router with the Switch load-balancing loss; forward, backward and an SGD update.
// Reports GFLOP/s counted as 12 T k d d_ff per step against the sgemm GFLOP/s measured in the same run, and
// the step time against a dense FFN of d_ff = k * 1024 (the same nominal FLOPs).
// Run: bazel run //moe:moe_bench   (threads: OMP_NUM_THREADS, default all cores)
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <functional>

#include "configs/config.h"
#include "core/ops/ops.h"
#include "core/optim.h"
#include "core/rng.h"
#include "moe/moe_layer.h"

namespace onemodel::moe {
namespace {

constexpr int64_t kTokens = 4096, kDim = 512, kHidden = 1024, kExperts = 8, kTopK = 2;

double Seconds(const std::function<void()>& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median times of a and b over `reps` interleaved calls (after `warmup` of each), so drift in clock speed
// or memory state hits both alike.
std::pair<double, double> InterleavedMedians(int warmup, int reps, const std::function<void()>& a,
                                             const std::function<void()>& b) {
  for (int i = 0; i < warmup; ++i) a(), b();
  std::vector<double> ta, tb;
  for (int i = 0; i < reps; ++i) {
    ta.push_back(Seconds(a));
    tb.push_back(Seconds(b));
  }
  return {Median(ta), Median(tb)};
}

double SgemmGflops() {
  // The GEMM ceiling here: the best of a few 2048^3 products, with all threads.
  const int64_t n = 2048;
  const Tensor a = RandomNormal({n, n}, RngKey{1}), b = RandomNormal({n, n}, RngKey{2});
  Tensor c = Tensor::Empty({n, n});
  double best = 1e30;
  for (int i = 0; i < 4; ++i) {
    best = std::min(best, Seconds([&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.f, a.data<float>(), n, b.data<float>(), n,
                  0.f, c.data<float>(), n);
    }));
  }
  return 2.0 * n * n * n / best / 1e9;
}

struct TorchResult {
  bool ok = false;
  double moe_ms = 0, dense_ms = 0;
  std::string version;
};

// The same step in PyTorch (tools/bench/moe_torch.py), with the interpreter in $ONEMODEL_TORCH_PYTHON
// (tools/bench/setup_torch.sh makes one with the current PyPI release).
TorchResult RunTorch(int threads) {
  TorchResult r;
  const char* python = std::getenv("ONEMODEL_TORCH_PYTHON");
  if (python == nullptr) return r;
  const std::string command = std::string(python) + " tools/bench/moe_torch.py --threads " + std::to_string(threads);
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  char line[512];
  while (std::fgets(line, sizeof(line), pipe) != nullptr) {
    char version[64] = {0};
    if (std::sscanf(line, "TORCH moe ms_per_step=%lf dense_ms=%lf torch=%63s", &r.moe_ms, &r.dense_ms, version) == 3) {
      r.ok = true;
      r.version = version;
    }
  }
  pclose(pipe);
  return r;
}

void Run() {
  auto experiment = ParseExperiment(
      "moe { num_experts: 8 hidden: 1024 activation: RELU load_balance_coef: 0.01 z_loss_coef: 0 "
      "router { kind: NOISY_TOP_K top_k: 2 capacity_factor_train: 1.25 } }",
      "moe_bench");
  CHECK(experiment.ok()) << experiment.status();
  MoeLayer layer(experiment->moe(), kDim, 1, 1);
  Ffn dense(kDim, kTopK * kHidden, UnaryKind::kRelu, false, 1, 2);
  Sgd moe_sgd(layer.NamedParameters(), {});
  Sgd dense_sgd(dense.NamedParameters(), {});
  const Tensor x = RandomNormal({kTokens, kDim}, RngKey{3});
  const Tensor target_weights = RandomNormal({kTokens, kDim}, RngKey{4}, 0.f, 0.01f);
  uint32_t step = 0;
  RoutingStats stats;
  auto moe_step = [&] {
    moe_sgd.ZeroGrad();
    const MoeOutput out = layer.Forward(x, ++step, true);
    ops::Add(ops::SumAll(ops::Mul(out.y, target_weights)), out.aux_loss).Backward();
    moe_sgd.Step(1e-3f);
    stats = out.stats;
  };
  auto dense_step = [&] {
    dense_sgd.ZeroGrad();
    ops::SumAll(ops::Mul(dense.Forward(x), target_weights)).Backward();
    dense_sgd.Step(1e-3f);
  };
  const double sgemm = SgemmGflops();
  const auto [moe_s, dense_s] = InterleavedMedians(2, 11, moe_step, dense_step);
  const double flops = 12.0 * kTokens * kTopK * kDim * kHidden;
  const double gflops = flops / moe_s / 1e9;
  std::printf("threads %d; sgemm 2048^3 %.1f GFLOP/s\n", omp_get_max_threads(), sgemm);
  std::printf("MoE step (T=%lld d=%lld d_ff=%lld E=%lld k=%lld cf=1.25): %.1f ms, %.0f tokens/s, %.1f GFLOP/s "
              "(%.2f of sgemm); routing: %s\n",
              static_cast<long long>(kTokens), static_cast<long long>(kDim), static_cast<long long>(kHidden),
              static_cast<long long>(kExperts), static_cast<long long>(kTopK), moe_s * 1e3, kTokens / moe_s, gflops,
              gflops / sgemm, stats.Summary().c_str());
  std::printf("dense FFN step (d_ff=%lld): %.1f ms, %.1f GFLOP/s\n", static_cast<long long>(kTopK * kHidden),
              dense_s * 1e3, flops / dense_s / 1e9);
  const TorchResult torch = RunTorch(omp_get_max_threads());
  std::string torch_keys = " torch=skipped";
  if (torch.ok) {
    const double torch_gflops = flops / (torch.moe_ms * 1e-3) / 1e9;
    std::printf("PyTorch %s, same step: %.1f ms (%.1f GFLOP/s, %.2f of sgemm), its dense FFN %.1f ms; "
                "ours is %.2fx faster\n",
                torch.version.c_str(), torch.moe_ms, torch_gflops, torch_gflops / sgemm, torch.dense_ms,
                torch.moe_ms / (moe_s * 1e3));
    torch_keys = " torch_ms=" + std::to_string(torch.moe_ms) + " speedup_vs_torch=" +
                 std::to_string(torch.moe_ms / (moe_s * 1e3)) + " torch_peak_fraction=" +
                 std::to_string(torch_gflops / sgemm);
  } else {
    std::printf("PyTorch reference: skipped (set ONEMODEL_TORCH_PYTHON; tools/bench/setup_torch.sh makes one)\n");
  }
  std::printf("BENCH moe ms_per_step=%.1f tokens_per_s=%.0f gflops=%.1f sgemm_gflops=%.1f peak_fraction=%.3f "
              "moe_over_dense=%.3f dense_ms=%.1f%s\n",
              moe_s * 1e3, kTokens / moe_s, gflops, sgemm, gflops / sgemm, moe_s / dense_s, dense_s * 1e3,
              torch_keys.c_str());
}

}  // namespace
}  // namespace onemodel::moe

int main() {
  onemodel::moe::Run();
  return 0;
}
