#include "tools/slurm_commands.h"

#include <cstdio>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "configs/config.h"
#include "train/checkpoint.h"
#include "tools/cli_flags.h"
#include "tools/slurm_jobs.h"

namespace onemodel {
namespace {

namespace fs = std::filesystem;

std::string Absolute(const std::string& path) { return fs::absolute(path).lexically_normal().string(); }

std::string ThisBinary() {
  std::error_code ec;
  return fs::read_symlink("/proc/self/exe", ec).string();
}

bool ParseInt(const Flags& flags, const std::string& name, int fallback, int* out) {
  const std::string value = Flag(flags, name, std::to_string(fallback));
  if (absl::SimpleAtoi(value, out)) return true;
  std::fprintf(stderr, "onemodel: --%s wants a number, not '%s'\n", name.c_str(), value.c_str());
  return false;
}

// Prints the script (--dry-run) or submits it; returns the job id ("" for a dry run).
absl::StatusOr<std::string> SubmitOrShow(const std::string& script, const std::string& path, bool dry_run,
                                         const std::vector<std::string>& extra = {}) {
  if (dry_run) {
    std::printf("# %s%s\n%s", path.c_str(), extra.empty() ? "" : absl::StrCat(" (sbatch ", extra[0], ")").c_str(),
                script.c_str());
    return std::string();
  }
  return Submit(script, path, extra);
}

}  // namespace

int SubmitCommand(const std::vector<std::string>& args, const char* usage) {
  Flags flags;
  if (!ParseFlags(args, {"config", "run", "nodes", "ntasks-per-node", "gpus-per-node", "time", "partition"}, &flags,
                  usage, {"requeue", "dry-run"})) {
    return 2;
  }
  const std::string config_path = Flag(flags, "config");
  if (config_path.empty()) {
    std::fprintf(stderr, "onemodel submit: --config is required\n%s", usage);
    return 2;
  }
  absl::StatusOr<config::Experiment> config = LoadExperiment(config_path);  // fail here, not in the queue
  if (!config.ok()) return Fail(config.status());
  const std::string name = config->name().empty() ? "default" : config->name();
  TrainJob job;
  job.name = name;
  job.binary = ThisBinary();
  job.workdir = fs::current_path().string();
  job.config = Absolute(config_path);
  job.run_dir = Absolute(Flag(flags, "run", "runs/" + name));
  if (!ParseInt(flags, "nodes", 1, &job.nodes) || !ParseInt(flags, "ntasks-per-node", 1, &job.tasks_per_node) ||
      !ParseInt(flags, "gpus-per-node", 0, &job.gpus_per_node)) {
    return 2;
  }
  job.time = Flag(flags, "time");
  job.partition = Flag(flags, "partition");
  job.requeue = Flag(flags, "requeue") == "true";
  if (absl::Status s = CheckTrainJob(job); !s.ok()) return Fail(s);
  const bool dry_run = Flag(flags, "dry-run") == "true";
  absl::StatusOr<std::string> id = SubmitOrShow(TrainScript(job), job.run_dir + "/slurm/train.sbatch", dry_run);
  if (!id.ok()) return Fail(id.status());
  if (!dry_run) {
    std::printf("submitted training job %s: %d node(s) x %d rank(s); log %s/slurm/train-%s.out; squeue -j %s\n",
                id->c_str(), job.nodes, job.tasks_per_node, job.run_dir.c_str(), id->c_str(), id->c_str());
  }
  return 0;
}

int SubmitEvalCommand(const std::vector<std::string>& args, const char* usage) {
  Flags flags;
  if (!ParseFlags(args, {"run", "tasks", "examples", "time", "partition"}, &flags, usage, {"dry-run"})) return 2;
  const std::string run = Flag(flags, "run");
  if (run.empty()) {
    std::fprintf(stderr, "onemodel submit-eval: --run is required\n%s", usage);
    return 2;
  }
  EvalJob job;
  job.run_dir = Absolute(run);
  job.name = fs::path(job.run_dir).filename().string();
  job.binary = ThisBinary();
  job.workdir = fs::current_path().string();
  job.tasks = Flag(flags, "tasks", "all");
  job.time = Flag(flags, "time");
  job.partition = Flag(flags, "partition");
  if (!absl::SimpleAtoi(Flag(flags, "examples", "0"), &job.examples) || job.examples < 0) {
    std::fprintf(stderr, "onemodel submit-eval: --examples wants a number >= 0 (0: whole test splits)\n");
    return 2;
  }
  absl::StatusOr<std::vector<std::string>> checkpoints = ListCheckpoints(job.run_dir);
  if (!checkpoints.ok()) return Fail(checkpoints.status());
  job.checkpoints = *checkpoints;
  const bool dry_run = Flag(flags, "dry-run") == "true";
  absl::StatusOr<std::string> array = SubmitOrShow(EvalArrayScript(job), job.run_dir + "/slurm/eval.sbatch", dry_run);
  if (!array.ok()) return Fail(array.status());
  absl::StatusOr<std::string> table =
      SubmitOrShow(GatherScript(job), job.run_dir + "/slurm/eval-table.sbatch", dry_run,
                   {absl::StrCat("--dependency=afterok:", dry_run ? "<array job>" : *array)});
  if (!table.ok()) return Fail(table.status());
  if (!dry_run) {
    std::printf("submitted evaluation array %s (%zu checkpoints) and table job %s; the table: %s/eval/eval.json\n",
                array->c_str(), job.checkpoints.size(), table->c_str(), job.run_dir.c_str());
  }
  return 0;
}

}  // namespace onemodel
