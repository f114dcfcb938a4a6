// The onemodel command line. `bazel run -c opt //tools:onemodel -- <command> [flags]`.
// Relative paths are taken from the directory `bazel run` was started in.
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "configs/config.h"
#include "data/translation_builder.h"
#include "glog/logging.h"
#include "tasks/synthetic/chen2022.h"
#include "tools/fmnist_demo.h"

#include <omp.h>

namespace onemodel {
namespace {

constexpr char kUsage[] =
    "usage: onemodel <command> [flags]\n"
    "commands:\n"
    "  fmnist-demo --config FILE [--out DIR]   train and evaluate the engine demo CNN on Fashion-MNIST\n"
    "  prepare-data translation [--out DIR] [--source FILE]\n"
    "                                          build the EN<->DE sentence pairs (Debian trans-de-en) cache\n"
    "  repro chen2022 [--config FILE] [--seeds N] [--threads N]\n"
    "                                          reproduce Chen et al. 2022 (MoE on cluster-structured data)\n";

std::string ResolvePath(const std::string& path) {
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");  // set by `bazel run`
  if (path.empty() || path[0] == '/' || workspace == nullptr) return path;
  return absl::StrCat(workspace, "/", path);
}

// Parses "--name value" pairs; returns false (after printing why) on anything else.
bool ParseFlags(const std::vector<std::string>& args, const std::vector<std::string>& known,
                std::vector<std::pair<std::string, std::string>>* out) {
  for (size_t i = 0; i < args.size(); i += 2) {
    const std::string& flag = args[i];
    bool ok = flag.rfind("--", 0) == 0 && std::find(known.begin(), known.end(), flag.substr(2)) != known.end();
    if (!ok || i + 1 >= args.size()) {
      std::fprintf(stderr, "onemodel: %s flag %s\n%s", ok ? "missing value for" : "unknown", flag.c_str(), kUsage);
      return false;
    }
    out->emplace_back(flag.substr(2), args[i + 1]);
  }
  return true;
}

int FmnistDemo(const std::vector<std::string>& args) {
  std::vector<std::pair<std::string, std::string>> flags;
  if (!ParseFlags(args, {"config", "out"}, &flags)) return 2;
  std::string config_path, out_dir;
  for (const auto& [name, value] : flags) (name == "config" ? config_path : out_dir) = ResolvePath(value);
  if (config_path.empty()) {
    std::fprintf(stderr, "onemodel fmnist-demo: --config is required\n%s", kUsage);
    return 2;
  }
  absl::StatusOr<config::Experiment> config = LoadExperiment(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "onemodel: %s\n", std::string(config.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<DemoResult> result = RunFashionMnistDemo(*config, out_dir);
  if (!result.ok()) {
    std::fprintf(stderr, "onemodel: %s\n", std::string(result.status().message()).c_str());
    return 1;
  }
  std::printf("fmnist-demo: test accuracy %.4f (10000 Fashion-MNIST test images) in %.0f s\n",
              result->test_accuracy, result->seconds);
  return 0;
}

int PrepareData(const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "translation") {
    std::fprintf(stderr, "onemodel prepare-data: known data sets: translation\n%s", kUsage);
    return 2;
  }
  std::vector<std::pair<std::string, std::string>> flags;
  if (!ParseFlags({args.begin() + 1, args.end()}, {"out", "source"}, &flags)) return 2;
  std::string out = ResolvePath("data_cache"), source = "/usr/share/trans/de-en";
  for (const auto& [name, value] : flags) (name == "out" ? out : source) = ResolvePath(value);
  absl::StatusOr<std::string> dir = data::BuildTranslationCache(source, out);
  if (!dir.ok()) {
    std::fprintf(stderr, "onemodel: %s\n", std::string(dir.status().message()).c_str());
    return 1;
  }
  std::printf("wrote %s (train.tsv, test.tsv, manifest.json)\n", dir->c_str());
  return 0;
}

int ReproChen2022(const std::vector<std::string>& args) {
  std::vector<std::pair<std::string, std::string>> flags;
  if (!ParseFlags(args, {"config", "seeds", "threads"}, &flags)) return 2;
  config::Experiment experiment;
  for (const auto& [name, value] : flags) {
    if (name != "config") continue;
    absl::StatusOr<config::Experiment> loaded = LoadExperiment(ResolvePath(value));
    if (!loaded.ok()) {
      std::fprintf(stderr, "onemodel: %s\n", std::string(loaded.status().message()).c_str());
      return 1;
    }
    experiment = *loaded;
  }
  config::Chen2022Config c = experiment.chen2022();
  for (const auto& [name, value] : flags) {
    int n = 0;
    if (name == "config") continue;
    if (!absl::SimpleAtoi(value, &n) || n < 1) {
      std::fprintf(stderr, "onemodel: --%s wants a positive integer, got '%s'\n", name.c_str(), value.c_str());
      return 2;
    }
    if (name == "seeds") c.set_seeds(n);
    if (name == "threads") omp_set_num_threads(n);
  }
  std::printf("Chen et al. 2022 on cluster-structured data: %d seeds, %d train / %d test samples, %d experts\n",
              c.seeds(), c.data().train_size(), c.data().test_size(), c.experts());
  absl::StatusOr<std::vector<synthetic::ChenSummary>> result = synthetic::RunChen2022(c);
  if (!result.ok()) {
    std::fprintf(stderr, "onemodel: %s\n", std::string(result.status().message()).c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace onemodel

int main(int argc, char** argv) {
  google::InitGoogleLogging(argv[0]);
  if (argc < 2) {
    std::fprintf(stderr, "%s", onemodel::kUsage);
    return 2;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "fmnist-demo") return onemodel::FmnistDemo(args);
  if (command == "prepare-data") return onemodel::PrepareData(args);
  if (command == "repro") {
    if (args.empty() || args[0] != "chen2022") {
      std::fprintf(stderr, "onemodel repro: known reproductions: chen2022\n%s", onemodel::kUsage);
      return 2;
    }
    return onemodel::ReproChen2022({args.begin() + 1, args.end()});
  }
  std::fprintf(stderr, "onemodel: unknown command '%s'\n%s", command.c_str(), onemodel::kUsage);
  return 2;
}
