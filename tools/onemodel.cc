// The onemodel command line. `bazel run -c opt //tools:onemodel -- <command> [flags]`.
// Under `bazel run` the process first moves to the workspace directory, so relative paths (configs, run and
// data directories) are taken from there.
#include <omp.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "configs/config.h"
#include "core/op_profiler.h"
#include "data/speech_builder.h"
#include "data/translation_builder.h"
#include "distributed/launch.h"
#include "glog/logging.h"
#include "tasks/synthetic/chen2022.h"
#include "tasks/task.h"
#include "train/checkpoint.h"
#include "train/evaluator.h"
#include "train/session.h"
#include "train/trainer.h"
#include "tools/cli_flags.h"
#include "tools/slurm_commands.h"

namespace onemodel {
namespace {

constexpr char kUsage[] =
    "usage: onemodel <command> [flags]\n"
    "commands:\n"
    "  train --config FILE [--run DIR]        train the tasks of FILE jointly; resumes DIR's latest checkpoint\n"
    "                                          (default run dir: runs/<config name>). Under mpirun/srun each rank\n"
    "                                          trains on its share of every batch (config: distributed { ... });\n"
    "                                          SIGTERM/SIGUSR1: checkpoint, exit 4 (the same command resumes)\n"
    "  eval --checkpoint DIR [--checkpoint DIR ...] [--tasks all|a,b] [--examples N] [--out DIR]\n"
    "                                          evaluate checkpoints (or run dirs, or their latest files) on\n"
    "                                          their tasks' test splits;\n"
    "                                          prints a checkpoint x task table, writes eval.json and eval.png\n"
    "  eval-table --from DIR [--out DIR]      the table of DIR/*/eval.json (evaluations made one at a time)\n"
    "  submit --config FILE [--run DIR] [--nodes N] [--ntasks-per-node M] [--gpus-per-node G] [--time T]\n"
    "         [--partition P] [--requeue] [--dry-run]\n"
    "                                          SLURM: write DIR/slurm/train.sbatch (srun --mpi=pmix, one rank\n"
    "                                          per task) and sbatch it; --requeue: preempted jobs resume\n"
    "  submit-eval --run DIR [--tasks all|a,b] [--examples N] [--time T] [--partition P] [--dry-run]\n"
    "                                          SLURM: a job array evaluating every checkpoint of DIR, then a\n"
    "                                          dependent job writing the table to DIR/eval/\n"
    "  profile --config FILE [--steps N] [--top K] [--tasks all|a,b]\n"
    "                                          train N steps (default 30) of FILE (only the tasks named) on the CPU\n"
    "                                          in a scratch run dir; print the time by task and by op (forward,\n"
    "                                          backward; the K largest by output shape, default 25)\n"
    "  inspect DIR                             a checkpoint's step, parameters per part and expert load\n"
    "  tasks                                   list the registered tasks\n"
    "  help, or --help after any command       this usage\n"
    "  prepare-data translation [--out DIR] [--source FILE] [--vocab N]\n"
    "                                          build the EN<->DE cache (Debian trans-de-en + FreeDict example\n"
    "                                          sentences; --source: only this trans-de-en file) with its subwords\n"
    "  prepare-data speech [--out DIR] [--train N] [--dev N] [--seed S] [--real-dir DIR] [--transcripts FILE]\n"
    "                      [--threads N] [--phonemes] [--strict]\n"
    "                                          build the speech cache: espeak-ng utterances (train; dev in held-out\n"
    "                                          voices) and the asterisk-core-sounds-en recordings (real), as log-mel\n"
    "                                          features; bad recordings are reported and skipped (--strict: stop)\n"
    "  repro chen2022 [--config FILE] [--seeds N] [--threads N]\n"
    "                                          reproduce Chen et al. 2022 (MoE on cluster-structured data)\n";


// Preemption (SLURM sends SIGTERM, or SIGUSR1 ahead of the time limit): checkpoint after the current step, exit.
std::atomic<int> stop_signal{0};
constexpr int kStoppedExit = 4;  // stopped on a signal with a checkpoint: run the same command again to resume

void OnStopSignal(int signal) { stop_signal.store(signal); }

int TrainCommand(const std::vector<std::string>& args) {
  Flags flags;
  if (!ParseFlags(args, {"config", "run"}, &flags, kUsage)) return 2;
  const std::string config_path = Flag(flags, "config");
  if (config_path.empty()) {
    std::fprintf(stderr, "onemodel train: --config is required\n%s", kUsage);
    return 2;
  }
  absl::StatusOr<config::Experiment> config = LoadExperiment(config_path);
  if (!config.ok()) return Fail(config.status());
  const std::string run_dir = Flag(flags, "run", absl::StrCat("runs/", config->name().empty() ? "default" : config->name()));
  TrainOptions options;
  options.run_dir = run_dir;
  options.stop_signal = &stop_signal;
  // Under mpirun or srun: every rank runs this command; rank 0 prints.
  distributed::LaunchedWorld launched;
  if (distributed::StartedByLauncher()) {
    if (config->distributed().timeout_seconds() <= 0) {
      return Fail(absl::InvalidArgumentError("config field distributed.timeout_seconds must be > 0"));
    }
    launched = distributed::JoinLaunchedWorld(run_dir + "/heartbeat", config->distributed().timeout_seconds());
    options.world = launched.world.get();
  }
  const int rank = options.world == nullptr ? 0 : options.world->rank();
  const std::string who = options.world == nullptr ? "" : absl::StrCat("rank ", rank, ": ");
  if (rank == 0) {
    std::printf("onemodel train: %s -> %s%s\n", config_path.c_str(), run_dir.c_str(),
                options.world == nullptr ? "" : absl::StrCat(" (", options.world->size(), " ranks)").c_str());
  }
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGUSR1, &action, nullptr);
  absl::StatusOr<TrainResult> result = Train(*config, options);
  if (!result.ok()) return Fail(absl::Status(result.status().code(), who + std::string(result.status().message())));
  if (result->stopped) {
    if (rank == 0) {
      std::printf("stopped after step %lld on a signal; checkpoint %s/latest (the same command resumes)\n",
                  static_cast<long long>(result->last_step), run_dir.c_str());
    }
    return kStoppedExit;
  }
  if (rank == 0) {
    std::printf("trained steps %lld-%lld in %.0f s; checkpoint %s/latest\n", static_cast<long long>(result->first_step),
                static_cast<long long>(result->last_step), result->seconds, run_dir.c_str());
    std::printf("%s", TimeSharesText(result->time, result->seconds).c_str());
  }
  return 0;
}

// Keeps only the named tasks of `config` (in its order); a name it does not train is an error listing those it does.
absl::Status KeepTasks(const std::string& config_path, const std::vector<std::string>& names,
                       config::Experiment* config) {
  std::vector<std::string> trained;
  for (const config::TaskConfig& t : config->tasks()) trained.push_back(t.name());
  if (names.empty()) return absl::InvalidArgumentError("--tasks: names no task");
  for (const std::string& name : names) {
    if (std::find(trained.begin(), trained.end(), name) == trained.end()) {
      return absl::InvalidArgumentError(absl::StrCat("--tasks: ", config_path, " trains no task '", name,
                                                     "' (it trains ", absl::StrJoin(trained, ", "), ")"));
    }
  }
  google::protobuf::RepeatedPtrField<config::TaskConfig> kept;
  for (const config::TaskConfig& t : config->tasks()) {
    if (std::find(names.begin(), names.end(), t.name()) != names.end()) *kept.Add() = t;
  }
  config->mutable_tasks()->Swap(&kept);
  return absl::OkStatus();
}

int ProfileCommand(const std::vector<std::string>& args) {
  Flags flags;
  if (!ParseFlags(args, {"config", "steps", "top", "tasks"}, &flags, kUsage)) return 2;
  const std::string config_path = Flag(flags, "config");
  int64_t steps = 0;
  int top = 0;
  if (config_path.empty() || !absl::SimpleAtoi(Flag(flags, "steps", "30"), &steps) || steps < 1 ||
      !absl::SimpleAtoi(Flag(flags, "top", "25"), &top) || top < 0) {
    std::fprintf(stderr, "onemodel profile: needs --config FILE; --steps >= 1, --top >= 0\n%s", kUsage);
    return 2;
  }
  absl::StatusOr<config::Experiment> config = LoadExperiment(config_path);
  if (!config.ok()) return Fail(config.status());
  if (config->device() != config::Experiment::CPU) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        config_path, ": onemodel profile times ops on the CPU (a CUDA op returns before its kernel has run); ",
        "profile the GPU with nsys or ncu")));
  }
  if (const std::string tasks = Flag(flags, "tasks", "all"); tasks != "all") {
    if (absl::Status s = KeepTasks(config_path, absl::StrSplit(tasks, ',', absl::SkipEmpty()), &*config); !s.ok()) {
      return Fail(s);
    }
  }
  config->mutable_train()->set_eval_every(0);  // the steps only; the schedule stays the config's
  std::string scratch = (std::filesystem::temp_directory_path() / "onemodel-profile-XXXXXX").string();
  if (mkdtemp(scratch.data()) == nullptr) {
    return Fail(absl::InternalError(absl::StrCat(scratch, ": cannot create the scratch run dir")));
  }
  TrainOptions options;
  options.run_dir = scratch;
  options.stop_after = steps;
  std::printf("onemodel profile: %lld steps of %s (scratch run dir %s)\n", static_cast<long long>(steps),
              config_path.c_str(), scratch.c_str());
  absl::StatusOr<TrainResult> result;
  std::string table;
  {
    const OpProfiler profiler;
    result = Train(*config, options);
    table = profiler.Table(top);
  }
  std::error_code ignored;
  std::filesystem::remove_all(scratch, ignored);
  if (!result.ok()) return Fail(result.status());
  std::printf("%s%s", TimeSharesText(result->time, result->seconds).c_str(), table.c_str());
  return 0;
}

// Prints the checkpoint x task table; writes OUT/eval.json and OUT/eval.png.
int WriteEvalTable(const std::vector<CheckpointEval>& evals, const std::string& out) {
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec) return Fail(absl::InternalError(absl::StrCat(out, ": cannot create: ", ec.message())));
  std::printf("\n%s", EvalTableText(evals).c_str());
  std::ofstream(out + "/eval.json") << EvalJson(evals);
  absl::Status s = WriteEvalChart(evals, out + "/eval.png");
  if (!s.ok()) return Fail(s);
  std::printf("wrote %s/eval.json and %s/eval.png\n", out.c_str(), out.c_str());
  return 0;
}

int EvalCommand(const std::vector<std::string>& args) {
  Flags flags;
  if (!ParseFlags(args, {"checkpoint", "tasks", "examples", "out"}, &flags, kUsage)) return 2;
  std::vector<std::string> checkpoints;
  for (const auto& [name, value] : flags) {
    if (name == "checkpoint") checkpoints.push_back(value);
  }
  if (checkpoints.empty()) {
    std::fprintf(stderr, "onemodel eval: at least one --checkpoint is required\n%s", kUsage);
    return 2;
  }
  EvalOptions options;
  const std::string tasks = Flag(flags, "tasks", "all");
  if (tasks != "all") options.tasks = absl::StrSplit(tasks, ',', absl::SkipEmpty());
  if (!absl::SimpleAtoi(Flag(flags, "examples", "0"), &options.examples) || options.examples < 0) {
    std::fprintf(stderr, "onemodel eval: --examples wants a number >= 0 (0: whole test splits)\n");
    return 2;
  }
  absl::StatusOr<std::vector<CheckpointEval>> evals = EvaluateCheckpoints(checkpoints, options);
  if (!evals.ok()) return Fail(evals.status());
  return WriteEvalTable(*evals, Flag(flags, "out", "eval"));
}

// The table of evaluations made one checkpoint at a time (e.g. by `submit-eval`'s job array): every
// FROM/*/eval.json, in step order.
int EvalTableCommand(const std::vector<std::string>& args) {
  Flags flags;
  if (!ParseFlags(args, {"from", "out"}, &flags, kUsage)) return 2;
  const std::string from = Flag(flags, "from");
  if (from.empty()) {
    std::fprintf(stderr, "onemodel eval-table: --from is required\n%s", kUsage);
    return 2;
  }
  std::vector<CheckpointEval> evals;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(from, ec)) {
    const std::string json = (entry.path() / "eval.json").string();
    if (!std::filesystem::exists(json)) continue;
    absl::StatusOr<std::vector<CheckpointEval>> read = ReadEvalJson(json);
    if (!read.ok()) return Fail(read.status());
    evals.insert(evals.end(), read->begin(), read->end());
  }
  if (evals.empty()) return Fail(absl::NotFoundError(absl::StrCat(from, ": no */eval.json to gather")));
  std::sort(evals.begin(), evals.end(), [](const CheckpointEval& a, const CheckpointEval& b) { return a.step < b.step; });
  return WriteEvalTable(evals, Flag(flags, "out", from));
}

int InspectCommand(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::fprintf(stderr, "onemodel inspect: give one checkpoint (or run) directory\n%s", kUsage);
    return 2;
  }
  absl::StatusOr<std::string> resolved = ResolveCheckpointDir(args[0]);
  if (!resolved.ok()) return Fail(resolved.status());
  const std::string& dir = *resolved;
  absl::StatusOr<CheckpointContents> ckpt = LoadCheckpoint(dir);
  if (!ckpt.ok()) return Fail(ckpt.status());
  const NamedTensors params = GroupTensors(*ckpt, "params");
  int64_t total = 0;
  for (const auto& [name, t] : params) total += t.numel();
  std::printf("checkpoint %s\nstep %lld\nexperiment %s, tasks:", dir.c_str(), static_cast<long long>(ckpt->step),
              ckpt->config.name().c_str());
  for (const auto& t : ckpt->config.tasks()) std::printf(" %s", t.name().c_str());
  std::printf("\nparameters %lld\n", static_cast<long long>(total));
  for (const auto& [part, n] : ParametersByPart(params)) {
    std::printf("  %-28s %10lld  %5.1f%%\n", part.c_str(), static_cast<long long>(n), 100.0 * n / total);
  }
  const auto value_of = [&](const std::string& key, const std::string& fallback) {
    const auto it = ckpt->values.find(key);
    return it == ckpt->values.end() ? fallback : it->second;
  };
  std::printf("written by %s rank(s), expert-parallel %s (loads at any layout: experts are stored by global id)\n",
              value_of("world_size", "1").c_str(), value_of("expert_parallel", "1").c_str());
  for (const auto& [name, t] : GroupTensors(*ckpt, "ema")) {
    if (name != "ema.updates") continue;
    std::printf("moving average of the weights: %lld updates, optimizer.ema_decay %g (what eval reads)\n",
                static_cast<long long>(t.item()), ckpt->config.optimizer().ema_decay());
  }
  for (const auto& [key, value] : ckpt->values) {
    if (key.rfind("expert_load/", 0) == 0) {
      std::printf("%s experts' share of routed tokens (last logged interval): %s\n", key.substr(12).c_str(), value.c_str());
    } else if (key.rfind("position/", 0) == 0) {
      std::printf("data position of %s: batch %s\n", key.substr(9).c_str(), value.c_str());
    }
  }
  return 0;
}

int TasksCommand() {
  for (const auto& [name, description] : tasks::TaskRegistry::List()) {
    std::printf("%-18s %s\n", name.c_str(), description.c_str());
  }
  return 0;
}

// Installs a missing Debian package (as root directly, else through sudo) that `path` comes from.
absl::Status EnsurePackage(const std::string& path, const std::string& package) {
  if (std::filesystem::exists(path) || path.rfind("/usr/", 0) != 0) return absl::OkStatus();
  std::printf("prepare-data: %s is missing; installing Debian package %s\n", path.c_str(), package.c_str());
  const std::string sudo = ::geteuid() == 0 ? "" : "sudo ";
  const std::string command = absl::StrCat(sudo, "apt-get install -y -qq -o DPkg::Lock::Timeout=600 ", package);
  if (std::system(command.c_str()) != 0) {
    return absl::NotFoundError(absl::StrCat(path, ": missing and `", command, "` failed"));
  }
  return absl::OkStatus();
}

int PrepareTranslation(const std::vector<std::string>& args) {
  Flags flags;
  if (!ParseFlags(args, {"out", "source", "vocab"}, &flags, kUsage)) return 2;
  const std::string out = Flag(flags, "out", "data_cache");
  int vocab = 0;
  if (!absl::SimpleAtoi(Flag(flags, "vocab", absl::StrCat(data::kDefaultTranslationVocab)), &vocab)) {
    std::fprintf(stderr, "onemodel prepare-data: --vocab wants a number\n");
    return 2;
  }
  std::vector<data::TranslationSource> sources = data::DefaultTranslationSources();
  if (const std::string source = Flag(flags, "source"); !source.empty()) sources = {{source, sources[0].format, sources[0].package}};
  for (const data::TranslationSource& s : sources) {
    if (absl::Status st = EnsurePackage(s.path, s.package); !st.ok()) return Fail(st);
  }
  absl::StatusOr<std::string> dir = data::BuildTranslationCache(sources, out, vocab);
  if (!dir.ok()) return Fail(dir.status());
  std::printf("wrote %s (train.tsv, test.tsv, subwords.model, manifest.json)\n", dir->c_str());
  return 0;
}

int PrepareSpeech(const std::vector<std::string>& args) {
  Flags flags;
  if (!ParseFlags(args, {"out", "train", "dev", "seed", "real-dir", "transcripts", "threads"}, &flags, kUsage,
                  {"strict", "phonemes"})) {
    return 2;
  }
  data::SpeechBuildOptions o;
  o.out_dir = Flag(flags, "out", o.out_dir);
  o.real_dir = Flag(flags, "real-dir", o.real_dir);
  o.transcripts = Flag(flags, "transcripts", o.transcripts);
  o.strict = Flag(flags, "strict") == "true";
  o.phonemes = Flag(flags, "phonemes") == "true";
  if (!absl::SimpleAtoi(Flag(flags, "train", absl::StrCat(o.train)), &o.train) || o.train < 1 ||
      !absl::SimpleAtoi(Flag(flags, "dev", absl::StrCat(o.dev)), &o.dev) || o.dev < 1 ||
      !absl::SimpleAtoi(Flag(flags, "seed", absl::StrCat(o.seed)), &o.seed) ||
      !absl::SimpleAtoi(Flag(flags, "threads", absl::StrCat(o.threads)), &o.threads) || o.threads < 1) {
    std::fprintf(stderr, "onemodel prepare-data speech: --train, --dev, --seed and --threads want positive numbers\n");
    return 2;
  }
  // espeak-ng anywhere on PATH will do (e.g. one carried to a machine without Debian's packages).
  if (std::system("command -v espeak-ng >/dev/null 2>&1") != 0) {
    if (absl::Status st = EnsurePackage("/usr/bin/espeak-ng", "espeak-ng"); !st.ok()) return Fail(st);
  }
  if (absl::Status st = EnsurePackage(o.transcripts, "asterisk-core-sounds-en-wav"); !st.ok()) return Fail(st);
  absl::StatusOr<std::string> dir = data::BuildSpeechCache(o);
  if (!dir.ok()) return Fail(dir.status());
  std::printf("wrote %s (train, dev, real: .safetensors log-mel features + .tsv transcripts; manifest.json)\n",
              dir->c_str());
  return 0;
}

int PrepareData(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "translation") return PrepareTranslation({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "speech") return PrepareSpeech({args.begin() + 1, args.end()});
  std::fprintf(stderr, "onemodel prepare-data: known data sets: translation, speech\n%s", kUsage);
  return 2;
}

int ReproChen2022(const std::vector<std::string>& args) {
  Flags flags;
  if (!ParseFlags(args, {"config", "seeds", "threads"}, &flags, kUsage)) return 2;
  config::Experiment experiment;
  if (const std::string path = Flag(flags, "config"); !path.empty()) {
    absl::StatusOr<config::Experiment> loaded = LoadExperiment(path);
    if (!loaded.ok()) return Fail(loaded.status());
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
  if (!result.ok()) return Fail(result.status());
  return 0;
}

}  // namespace
}  // namespace onemodel

int main(int argc, char** argv) {
  google::InitGoogleLogging(argv[0]);
  if (const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY"); workspace != nullptr) {
    PCHECK(::chdir(workspace) == 0) << workspace;
  }
  if (argc < 2) {
    std::fprintf(stderr, "%s", onemodel::kUsage);
    return 2;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  const auto is_help_flag = [](const std::string& a) { return a == "--help" || a == "-h"; };
  if (command == "help" || is_help_flag(command) || std::any_of(args.begin(), args.end(), is_help_flag)) {
    std::printf("%s", onemodel::kUsage);
    return 0;
  }
  if (command == "train") return onemodel::TrainCommand(args);
  if (command == "eval") return onemodel::EvalCommand(args);
  if (command == "eval-table") return onemodel::EvalTableCommand(args);
  if (command == "submit") return onemodel::SubmitCommand(args, onemodel::kUsage);
  if (command == "submit-eval") return onemodel::SubmitEvalCommand(args, onemodel::kUsage);
  if (command == "inspect") return onemodel::InspectCommand(args);
  if (command == "profile") return onemodel::ProfileCommand(args);
  if (command == "tasks") return onemodel::TasksCommand();
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
