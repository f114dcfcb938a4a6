// The CPU's bf16 GEMM (core/ops/gemm_bf16.h) against OpenBLAS's sgemm in the same run, on 2048^3 and on the
// default model's product shapes (dim 160, attention's 480-wide projection, 4,000-word output softmax, a
// weight gradient over 4,096 tokens, the audio front end's 32 -> 64 weight gradient over a batch's positions), and
// against PyTorch's CPU matmul in bf16 and f32 when
// ONEMODEL_TORCH_PYTHON is set (tools/bench/setup_torch.sh). Ours rounds its f32 operands while packing;
// PyTorch's bf16 inputs are bf16 already. "emulated" is bf16 as CPUs without AVX512-BF16 run it: rounded
// copies, then sgemm.
// Run: bazel run //core:gemm_bf16_bench   (threads: OMP_NUM_THREADS, default all cores)
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/ops/gemm_bf16.h"
#include "core/ops/matmul.h"
#include "core/tensor.h"
#include "core/testing/best_seconds.h"

namespace onemodel {
namespace {

using testing::BestSeconds;

struct Shape3 {
  const char* name;
  bool trans_a, trans_b;
  int64_t m, n, k;
};

const Shape3 kShapes[] = {
    {"square 2048^3", false, false, 2048, 2048, 2048},
    {"qkv projection x W", false, false, 4096, 480, 160},
    {"its input grad dY W^T", false, true, 4096, 160, 480},
    {"its weight grad X^T dY", true, false, 160, 480, 4096},
    {"x W, 2048 x 160 x 160", false, false, 2048, 160, 160},
    {"dY W^T, 2048 x 160 x 160", false, true, 2048, 160, 160},
    {"X^T dY, 160 x 160 x 2048", true, false, 160, 160, 2048},
    {"output softmax x E^T", false, true, 2048, 4000, 160},
    {"audio block X^T dY, 32 x 64 x 140800", true, false, 32, 64, 140800},
};

std::vector<float> Random(int64_t count, unsigned seed) {
  std::vector<float> v(count);
  for (int64_t i = 0; i < count; ++i) v[i] = std::sin(0.37f * static_cast<float>(i) + static_cast<float>(seed));
  return v;
}

// PyTorch's bf16 and f32 GFLOP/s per shape, keyed by (ta, tb, m, n, k); empty without ONEMODEL_TORCH_PYTHON.
std::map<std::tuple<int, int, int64_t, int64_t, int64_t>, std::pair<double, double>> RunTorch(std::string* version) {
  std::map<std::tuple<int, int, int64_t, int64_t, int64_t>, std::pair<double, double>> rates;
  const char* python = std::getenv("ONEMODEL_TORCH_PYTHON");
  if (python == nullptr) return rates;
  std::string command = absl::StrCat(python, " tools/bench/gemm_bf16_torch.py --threads ", omp_get_max_threads());
  for (const Shape3& s : kShapes) {
    absl::StrAppend(&command, " ", s.trans_a, ",", s.trans_b, ",", s.m, ",", s.n, ",", s.k);
  }
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return rates;
  char line[512], torch[64];
  while (std::fgets(line, sizeof(line), pipe) != nullptr) {
    int ta, tb;
    long long m, n, k;
    double bf16, f32;
    if (std::sscanf(line, "TORCH gemm %d %d %lld %lld %lld %lf %lf torch=%63s", &ta, &tb, &m, &n, &k, &bf16, &f32,
                    torch) == 8) {
      rates[{ta, tb, m, n, k}] = {bf16, f32};
      *version = torch;
    }
  }
  pclose(pipe);
  return rates;
}

int Run() {
  if (!ops::CpuBF16GemmAvailable()) {
    std::printf("SKIPPED: this CPU has no AVX512-BF16 (or ONEMODEL_BF16_GEMM=emulate is set)\n");
    return 0;
  }
  std::string torch_version;
  const auto torch = RunTorch(&torch_version);
  std::printf("threads: %d; PyTorch: %s\n", omp_get_max_threads(),
              torch.empty() ? "skipped (set ONEMODEL_TORCH_PYTHON)" : torch_version.c_str());
  std::printf("%-26s %22s %9s %9s %9s %7s %11s %10s\n", "GFLOP/s", "ta tb m n k", "sgemm", "emulated", "ours",
              "/sgemm", "torch bf16", "torch f32");
  double square_ratio = 0, log_ratio_sum = 0, log_torch_sum = 0;
  for (const Shape3& s : kShapes) {
    const std::vector<float> a = Random(s.m * s.k, 1), b = Random(s.k * s.n, 2);
    std::vector<float> c(s.m * s.n), rounded_a(a.size()), rounded_b(b.size());
    const double flops = 2.0 * s.m * s.n * s.k;
    const int reps = flops > 1e10 ? 3 : 20;
    double sgemm = 1e30, emulated = 1e30, ours = 1e30;
    // Interleaved rounds, best of each, so clock drift hits every side alike.
    for (int round = 0; round < 3; ++round) {
      sgemm = std::min(sgemm, BestSeconds(reps, [&] {
        ops::Gemm(s.trans_a, s.trans_b, s.m, s.n, s.k, 1.f, a.data(), b.data(), 0.f, c.data());
      }));
      emulated = std::min(emulated, BestSeconds(reps, [&] {
        const int64_t na = static_cast<int64_t>(a.size()), nb = static_cast<int64_t>(b.size());
#pragma omp parallel for
        for (int64_t i = 0; i < na; ++i) rounded_a[i] = BF16ToFloat(FloatToBF16(a[i]));
#pragma omp parallel for
        for (int64_t i = 0; i < nb; ++i) rounded_b[i] = BF16ToFloat(FloatToBF16(b[i]));
        ops::Gemm(s.trans_a, s.trans_b, s.m, s.n, s.k, 1.f, rounded_a.data(), rounded_b.data(), 0.f, c.data());
      }));
      ours = std::min(ours, BestSeconds(reps, [&] {
        ops::GemmBF16(s.trans_a, s.trans_b, s.m, s.n, s.k, a.data(), b.data(), c.data());
      }));
    }
    const double ratio = sgemm / ours;
    if (square_ratio == 0) square_ratio = ratio;
    log_ratio_sum += std::log(ratio);
    const auto it = torch.find({s.trans_a, s.trans_b, s.m, s.n, s.k});
    std::string torch_cols = "         -          -";
    if (it != torch.end()) {
      torch_cols = absl::StrFormat("%11.1f %10.1f", it->second.first, it->second.second);
      log_torch_sum += std::log(flops / ours / 1e9 / it->second.first);
    }
    std::printf("%-26s %22s %9.1f %9.1f %9.1f %7.2f %s\n", s.name,
                absl::StrCat(s.trans_a, " ", s.trans_b, " ", s.m, " ", s.n, " ", s.k).c_str(), flops / sgemm / 1e9,
                flops / emulated / 1e9, flops / ours / 1e9, ratio, torch_cols.c_str());
  }
  const double shapes = static_cast<double>(std::size(kShapes));
  std::printf("BENCH gemm_bf16 square_vs_sgemm=%.2f geomean_vs_sgemm=%.2f geomean_vs_torch_bf16=%s\n", square_ratio,
              std::exp(log_ratio_sum / shapes),
              torch.empty() ? "skipped" : absl::StrFormat("%.2f", std::exp(log_torch_sum / shapes)).c_str());
  return 0;
}

}  // namespace
}  // namespace onemodel

int main() { return onemodel::Run(); }
