// SLURM batch scripts for `onemodel submit` and `onemodel submit-eval` (DESIGN §7), and their submission.
// Training runs one rank per task through `srun --mpi=pmix` (Debian's OpenMPI speaks PMIx; pmi2 does not).
// Preemption and time limits: SLURM signals the ranks (SIGUSR1 two minutes before the limit, SIGTERM on
// preemption), `onemodel train` checkpoints and exits 4, and with --requeue the script requeues the job, which
// resumes from the run's `latest`.
#ifndef ONEMODEL_TOOLS_SLURM_JOBS_H_
#define ONEMODEL_TOOLS_SLURM_JOBS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace onemodel {

struct TrainJob {
  std::string name;      // job name suffix (the experiment's name)
  std::string binary;    // absolute path of onemodel
  std::string workdir;   // absolute; the job runs there
  std::string config;    // absolute
  std::string run_dir;   // absolute; logs go to run_dir/slurm/
  int nodes = 1, tasks_per_node = 1, gpus_per_node = 0;
  std::string time, partition;  // empty: the cluster's defaults
  bool requeue = false;
};

struct EvalJob {
  std::string name, binary, workdir, run_dir;
  std::vector<std::string> checkpoints;  // absolute ckpt-<step> directories: one array task each
  std::string tasks;                     // "all" or a,b
  int64_t examples = 0;
  std::string time, partition;
};

// Checks the numbers and names (errors name the flag).
absl::Status CheckTrainJob(const TrainJob& job);

std::string TrainScript(const TrainJob& job);
// A job array: task i evaluates checkpoints[i] into run_dir/eval/ckpt-<step>/.
std::string EvalArrayScript(const EvalJob& job);
// Gathers the array's results into run_dir/eval/ (table, eval.json, eval.png).
std::string GatherScript(const EvalJob& job);

// Writes `script` to `path` and submits it with sbatch (`extra` arguments first, e.g. a dependency); returns the
// job id. Errors carry sbatch's own message.
absl::StatusOr<std::string> Submit(const std::string& script, const std::string& path,
                                   const std::vector<std::string>& extra = {});

}  // namespace onemodel

#endif  // ONEMODEL_TOOLS_SLURM_JOBS_H_
