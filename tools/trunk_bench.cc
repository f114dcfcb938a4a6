// Training throughput of the default model (configs/default.pbtxt's `model`): one image-classification step
// and one translation step (forward, backward, clipping, Adam), timed as a pair, on synthetic batches of the
// default job's shapes (64 images -> 16 patch tokens + 1 decoder position; 64 sentence pairs of 16 -> 16
// subwords, vocabulary 4000). The same pair in PyTorch (tools/bench/trunk_torch.py, a re-implementation of
// the same trunk; interpreter in $ONEMODEL_TORCH_PYTHON, see tools/bench/setup_torch.sh) runs in the same
// process tree with the same threads; with the config's matmul_precision BF16 PyTorch runs both in f32 and under
// torch.autocast to bf16, and the faster of the two is the reference. Last line:
// BENCH trunk ratio=<ours / torch tokens per second>.
//   bazel run -c opt //tools:trunk_bench
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "configs/config.h"
#include "core/ops/ops.h"
#include "core/optim.h"
#include "core/rng.h"
#include "model/multimodel.h"
#include "model/trunk.h"

namespace onemodel {
namespace {

constexpr int64_t kBatch = 64, kSourceLength = 16, kTargetLength = 16, kVocab = 4000, kImageTokens = 16;
// Medians of this many timed steps (after 2 warm-ups) per round, on both sides: this machine's timings are noisy.
constexpr int kRepeats = 15, kRounds = 3;

struct TorchResult {
  bool ok = false;
  double tokens_per_second = 0, image_ms = 0, translation_ms = 0;
  long long params = 0;
  char version[64] = {0};
  bool bf16 = false;
};

TorchResult RunTorch(const config::TrunkConfig& m, int threads, bool bf16) {
  TorchResult r;
  const char* python = std::getenv("ONEMODEL_TORCH_PYTHON");
  if (python == nullptr) return r;
  const auto& moe = m.encoder_moe();
  const std::string command = absl::StrCat(
      python, " tools/bench/trunk_torch.py --threads ", threads, " --dim ", m.dim(), " --heads ", m.heads(),
      " --conv_steps ", m.conv_steps(), " --image_channels ", m.image_channels(), " --experts ", moe.num_experts(),
      " --hidden ", moe.hidden(), " --top_k ", moe.router().top_k(), " --capacity_factor ",
      moe.router().capacity_factor_train(), " --vocab ", kVocab, " --batch ", kBatch, " --src_len ", kSourceLength,
      " --tgt_len ", kTargetLength, " --repeats ", kRepeats, bf16 ? " --bf16" : "");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  char line[1024];
  while (std::fgets(line, sizeof(line), pipe) != nullptr) {
    double pair_ms = 0;
    if (std::sscanf(line,
                    "TORCH trunk tokens_per_second=%lf ms_per_step_pair=%lf image_ms=%lf translation_ms=%lf "
                    "params=%lld torch=%63s",
                    &r.tokens_per_second, &pair_ms, &r.image_ms, &r.translation_ms, &r.params, r.version) == 6) {
      r.ok = true;
      r.bf16 = bf16;
    }
  }
  pclose(pipe);
  return r;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

template <typename Fn>
double MedianMs(Fn&& fn, int warmup, int runs) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  return Median(ms);
}

int Run() {
  absl::StatusOr<config::Experiment> experiment = LoadExperiment("configs/default.pbtxt");
  CHECK(experiment.ok()) << experiment.status();
  if (experiment->threads() > 0) omp_set_num_threads(experiment->threads());
  const config::TrunkConfig& m = experiment->model();
  CHECK(model::ValidateTrunkConfig(m).ok());
  model::MultiModel net(m,
                        {{"image", model::InputModality::kImage, model::OutputModality::kClassLabel, 10, "", 0},
                         {"translate", model::InputModality::kSymbols, model::OutputModality::kSymbols, 0, "text", kVocab}},
                        1);
  AdamOptions adam_options;
  adam_options.beta2 = 0.98f;
  Adam adam(net.NamedParameters(), adam_options);

  model::Batch images;
  images.images = RandomUniform({kBatch, 28, 28}, RngKey{5});
  std::vector<int64_t> labels(kBatch), source(kBatch * kSourceLength), target(kBatch * kTargetLength);
  for (int64_t i = 0; i < kBatch; ++i) labels[i] = i % 10;
  for (size_t i = 0; i < source.size(); ++i) source[i] = 3 + static_cast<int64_t>(UniformAt(RngKey{6}, i) * (kVocab - 3));
  for (size_t i = 0; i < target.size(); ++i) target[i] = 3 + static_cast<int64_t>(UniformAt(RngKey{7}, i) * (kVocab - 3));
  images.targets = Tensor::FromIndices(labels, {kBatch, 1});
  model::Batch text;
  text.input_ids = Tensor::FromIndices(source, {kBatch, kSourceLength});
  text.targets = Tensor::FromIndices(target, {kBatch, kTargetLength});

  uint32_t step = 0;
  auto train_step = [&](int task, const model::Batch& batch) {
    const model::ForwardResult r = net.Forward(task, batch, model::RunContext{true, ++step});
    ops::Add(r.loss, r.aux_loss).Backward();
    ClipGradNorm(net.Parameters(), 1.f);
    adam.Step(1e-4f);
    adam.ZeroGrad();
  };
  // Rounds of (ours, PyTorch), medians over rounds: slow spells of this shared machine hit both sides.
  std::vector<double> image_ms, text_ms, ours, theirs, torch_image_ms, torch_text_ms;
  TorchResult torch;
  const double tokens = kBatch * (kImageTokens + 1) + kBatch * (kSourceLength + kTargetLength);
  for (int round = 0; round < kRounds; ++round) {
    image_ms.push_back(MedianMs([&] { train_step(0, images); }, 2, kRepeats));
    text_ms.push_back(MedianMs([&] { train_step(1, text); }, 2, kRepeats));
    ours.push_back(tokens / ((image_ms.back() + text_ms.back()) * 1e-3));
    // f32, and bf16 autocast too where our products are bf16 (an f32 config ran PyTorch's f32 twice).
    torch = RunTorch(m, omp_get_max_threads(), /*bf16=*/false);
    if (m.matmul_precision() == config::TrunkConfig::BF16) {
      const TorchResult autocast = RunTorch(m, omp_get_max_threads(), /*bf16=*/true);
      std::printf("PyTorch under bf16 autocast, round %d: %.0f tokens/s\n", round + 1, autocast.tokens_per_second);
      if (autocast.ok && autocast.tokens_per_second > torch.tokens_per_second) torch = autocast;
    }
    if (!torch.ok) continue;
    theirs.push_back(torch.tokens_per_second);
    torch_image_ms.push_back(torch.image_ms);
    torch_text_ms.push_back(torch.translation_ms);
  }
  std::printf("onemodel: %lld parameters, %d threads, %s products; image step %.1f ms, translation step %.1f ms; "
              "%.0f tokens/s (median of %d rounds)\n",
              static_cast<long long>(net.NumParameters()), omp_get_max_threads(),
              config::TrunkConfig::Precision_Name(m.matmul_precision()).c_str(), Median(image_ms), Median(text_ms),
              Median(ours), kRounds);
  if (theirs.empty()) {
    std::printf("PyTorch reference: skipped (set ONEMODEL_TORCH_PYTHON; tools/bench/setup_torch.sh makes one)\n");
    std::printf("BENCH trunk tokens_per_second=%.0f ratio=skipped\n", Median(ours));
    return 0;
  }
  std::printf("PyTorch %s (%s, the last round's faster mode): %lld parameters; image step %.1f ms, translation step "
              "%.1f ms; %.0f tokens/s\n",
              torch.version, torch.bf16 ? "bf16 autocast" : "f32", torch.params, Median(torch_image_ms),
              Median(torch_text_ms), Median(theirs));
  std::printf("BENCH trunk tokens_per_second=%.0f torch_tokens_per_second=%.0f ratio=%.3f\n", Median(ours),
              Median(theirs), Median(ours) / Median(theirs));
  return 0;
}

}  // namespace
}  // namespace onemodel

int main() {
  if (const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY"); workspace != nullptr) {
    CHECK_EQ(::chdir(workspace), 0) << workspace;
  }
  return onemodel::Run();
}
