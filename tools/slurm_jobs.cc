#include "tools/slurm_jobs.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace onemodel {
namespace {

// A single-quoted shell word.
std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string Header(const std::string& job_name, const std::string& log, const std::string& time,
                   const std::string& partition) {
  std::string h = absl::StrCat("#!/bin/bash\n#SBATCH --job-name=", job_name, "\n#SBATCH --output=", log, "\n");
  if (!time.empty()) absl::StrAppend(&h, "#SBATCH --time=", time, "\n");
  if (!partition.empty()) absl::StrAppend(&h, "#SBATCH --partition=", partition, "\n");
  return h;
}

}  // namespace

absl::Status CheckTrainJob(const TrainJob& job) {
  auto bad = [](const std::string& flag, const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("onemodel submit: --", flag, " ", why));
  };
  if (job.nodes < 1) return bad("nodes", "must be >= 1");
  if (job.tasks_per_node < 1) return bad("ntasks-per-node", "must be >= 1");
  if (job.gpus_per_node < 0) return bad("gpus-per-node", "must be >= 0");
  for (char c : job.time + job.partition + job.name) {
    if (c == '\n' || c == '\'' || c == ' ') return bad("time/--partition", "must be one word");
  }
  return absl::OkStatus();
}

std::string TrainScript(const TrainJob& job) {
  std::string s = Header(absl::StrCat("onemodel-train-", job.name), job.run_dir + "/slurm/train-%j.out", job.time,
                         job.partition);
  absl::StrAppend(&s, "#SBATCH --nodes=", job.nodes, "\n#SBATCH --ntasks-per-node=", job.tasks_per_node, "\n");
  if (job.gpus_per_node > 0) absl::StrAppend(&s, "#SBATCH --gpus-per-node=", job.gpus_per_node, "\n");
  absl::StrAppend(&s,
                  "#SBATCH --open-mode=append\n"
                  "# SIGUSR1 to every rank two minutes before the time limit: checkpoint and exit 4.\n"
                  "#SBATCH --signal=USR1@120\n",
                  job.requeue ? "#SBATCH --requeue\n" : "#SBATCH --no-requeue\n");
  absl::StrAppend(&s, "# Written by `onemodel submit`: ", job.config, " -> ", job.run_dir, "\n");
  absl::StrAppend(&s, "cd ", Quote(job.workdir), " || exit 1\n");
  absl::StrAppend(&s, "echo \"job $SLURM_JOB_ID on $SLURM_JOB_NODELIST: $SLURM_NTASKS ranks, restart ",
                  "${SLURM_RESTART_COUNT:-0}\"\n");
  absl::StrAppend(&s, "srun --mpi=pmix ", Quote(job.binary), " train --config ", Quote(job.config), " --run ",
                  Quote(job.run_dir), "\nstatus=$?\n");
  if (job.requeue) {
    absl::StrAppend(&s,
                    "# 4: stopped on a signal with a checkpoint: requeued, the job resumes from the run's latest.\n"
                    "if [ $status -eq 4 ]; then\n"
                    "  for try in 1 2 3; do scontrol requeue \"$SLURM_JOB_ID\" && exit $status; sleep 5; done\n"
                    "  echo \"requeue of job $SLURM_JOB_ID failed: resume it by submitting it again\" >&2\n"
                    "fi\n");
  }
  absl::StrAppend(&s, "exit $status\n");
  return s;
}

std::string EvalArrayScript(const EvalJob& job) {
  std::string s = Header(absl::StrCat("onemodel-eval-", job.name), job.run_dir + "/slurm/eval-%A_%a.out", job.time,
                         job.partition);
  absl::StrAppend(&s, "#SBATCH --array=0-", job.checkpoints.size() - 1, "\n#SBATCH --ntasks=1\n");
  absl::StrAppend(&s, "# Written by `onemodel submit-eval`: one array task per checkpoint of ", job.run_dir, "\n");
  absl::StrAppend(&s, "cd ", Quote(job.workdir), " || exit 1\ncheckpoints=(");
  std::vector<std::string> quoted;
  for (const std::string& c : job.checkpoints) quoted.push_back(Quote(c));
  absl::StrAppend(&s, absl::StrJoin(quoted, " "), ")\n");
  absl::StrAppend(&s, "checkpoint=${checkpoints[$SLURM_ARRAY_TASK_ID]}\n");
  absl::StrAppend(&s, "exec ", Quote(job.binary), " eval --checkpoint \"$checkpoint\" --tasks ", Quote(job.tasks),
                  " --examples ", job.examples, " --out ", Quote(job.run_dir + "/eval"),
                  "/\"$(basename \"$checkpoint\")\"\n");
  return s;
}

std::string GatherScript(const EvalJob& job) {
  std::string s = Header(absl::StrCat("onemodel-eval-table-", job.name), job.run_dir + "/slurm/eval-table-%j.out",
                         job.time, job.partition);
  absl::StrAppend(&s, "#SBATCH --ntasks=1\n# Written by `onemodel submit-eval`: the checkpoint x task table\n");
  absl::StrAppend(&s, "cd ", Quote(job.workdir), " || exit 1\n");
  absl::StrAppend(&s, "exec ", Quote(job.binary), " eval-table --from ", Quote(job.run_dir + "/eval"), " --out ",
                  Quote(job.run_dir + "/eval"), "\n");
  return s;
}

absl::StatusOr<std::string> Submit(const std::string& script, const std::string& path,
                                   const std::vector<std::string>& extra) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  {
    std::ofstream out(path, std::ios::trunc);
    out << script;
    if (!out.flush()) return absl::InternalError(absl::StrCat(path, ": cannot write"));
  }
  std::vector<std::string> words = {"sbatch", "--parsable"};
  words.insert(words.end(), extra.begin(), extra.end());
  words.push_back(path);
  std::vector<std::string> quoted;
  for (const std::string& w : words) quoted.push_back(Quote(w));
  const std::string command = absl::StrCat(absl::StrJoin(quoted, " "), " 2>&1");
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError("cannot run sbatch");
  std::string output;
  std::array<char, 256> buffer;
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) output += buffer.data();
  const int status = ::pclose(pipe);
  const std::string trimmed(absl::StripAsciiWhitespace(output));
  if (status != 0) {
    return absl::UnavailableError(absl::StrCat("sbatch ", path, " failed (is SLURM installed and SLURM_CONF set?): ",
                                               trimmed.empty() ? "no output" : trimmed));
  }
  // --parsable prints "<id>" or "<id>;<cluster>".
  return trimmed.substr(0, trimmed.find(';'));
}

}  // namespace onemodel
