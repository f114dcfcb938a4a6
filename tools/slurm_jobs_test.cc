#include "tools/slurm_jobs.h"

#include "gtest/gtest.h"

namespace onemodel {
namespace {

TrainJob Job() {
  TrainJob job;
  job.name = "exp";
  job.binary = "/opt/om/onemodel";
  job.workdir = "/work dir";
  job.config = "/cfg/it's.pbtxt";
  job.run_dir = "/runs/exp";
  job.nodes = 2;
  job.tasks_per_node = 4;
  return job;
}

TEST(SlurmJobsTest, TrainScriptRunsOneRankPerTaskThroughPmix) {
  TrainJob job = Job();
  const std::string s = TrainScript(job);
  EXPECT_EQ(s.rfind("#!/bin/bash\n", 0), 0u);
  EXPECT_NE(s.find("#SBATCH --nodes=2\n"), std::string::npos) << s;
  EXPECT_NE(s.find("#SBATCH --ntasks-per-node=4\n"), std::string::npos) << s;
  EXPECT_NE(s.find("#SBATCH --output=/runs/exp/slurm/train-%j.out\n"), std::string::npos) << s;
  EXPECT_NE(s.find("#SBATCH --signal=USR1@120\n"), std::string::npos) << s;
  EXPECT_NE(s.find("cd '/work dir'"), std::string::npos) << s;
  // Quoting survives a quote in a path.
  EXPECT_NE(s.find("srun --mpi=pmix '/opt/om/onemodel' train --config '/cfg/it'\\''s.pbtxt' --run '/runs/exp'"),
            std::string::npos) << s;
  EXPECT_EQ(s.find("--gpus-per-node"), std::string::npos);
  EXPECT_EQ(s.find("--time"), std::string::npos);
  EXPECT_EQ(s.find("scontrol requeue"), std::string::npos);

  job.gpus_per_node = 8;
  job.time = "02:00:00";
  job.partition = "gpu";
  job.requeue = true;
  const std::string g = TrainScript(job);
  EXPECT_NE(g.find("#SBATCH --gpus-per-node=8\n"), std::string::npos) << g;
  EXPECT_NE(g.find("#SBATCH --time=02:00:00\n"), std::string::npos) << g;
  EXPECT_NE(g.find("#SBATCH --partition=gpu\n"), std::string::npos) << g;
  EXPECT_NE(g.find("#SBATCH --requeue\n"), std::string::npos) << g;
  EXPECT_NE(g.find("if [ $status -eq 4 ]; then\n  for try in 1 2 3; do scontrol requeue \"$SLURM_JOB_ID\" && exit $status;"),
            std::string::npos) << g;
}

TEST(SlurmJobsTest, BadNumbersNameTheFlag) {
  TrainJob job = Job();
  job.tasks_per_node = 0;
  EXPECT_NE(CheckTrainJob(job).message().find("--ntasks-per-node"), std::string::npos);
  job = Job();
  job.nodes = -1;
  EXPECT_NE(CheckTrainJob(job).message().find("--nodes"), std::string::npos);
  job = Job();
  job.time = "1 hour";
  EXPECT_FALSE(CheckTrainJob(job).ok());
  EXPECT_TRUE(CheckTrainJob(Job()).ok());
}

TEST(SlurmJobsTest, EvalArrayHasOneTaskPerCheckpointAndTheTableDependsOnIt) {
  EvalJob job;
  job.name = "exp";
  job.binary = "/opt/om/onemodel";
  job.workdir = "/w";
  job.run_dir = "/runs/exp";
  job.checkpoints = {"/runs/exp/ckpt-100", "/runs/exp/ckpt-200", "/runs/exp/ckpt-300"};
  job.tasks = "all";
  job.examples = 50;
  const std::string a = EvalArrayScript(job);
  EXPECT_NE(a.find("#SBATCH --array=0-2\n"), std::string::npos) << a;
  EXPECT_NE(a.find("checkpoints=('/runs/exp/ckpt-100' '/runs/exp/ckpt-200' '/runs/exp/ckpt-300')"), std::string::npos)
      << a;
  EXPECT_NE(a.find("eval --checkpoint \"$checkpoint\" --tasks 'all' --examples 50 --out '/runs/exp/eval'/"),
            std::string::npos) << a;
  const std::string g = GatherScript(job);
  EXPECT_NE(g.find("eval-table --from '/runs/exp/eval' --out '/runs/exp/eval'"), std::string::npos) << g;
}

}  // namespace
}  // namespace onemodel
