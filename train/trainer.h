// The multi-task trainer: each step draws one task per micro-batch (TaskSampler), sums the micro-batches'
// gradients (task loss + MoE auxiliary losses), clips, and takes one optimizer step on the scheduled learning
// rate. Every `log_every` steps a progress line (loss per task, tokens/s, ETA, expert load) and a metrics record;
// every `eval_every` steps an evaluation of each task; checkpoints every `checkpoint_every` steps and at the end.
// A run directory that holds a checkpoint is resumed from it, bit-exactly: batches, task draws, dropout and
// routing noise are functions of the step, and the checkpoint stores parameters, optimizer state and each
// task's data position.
#ifndef ONEMODEL_TRAIN_TRAINER_H_
#define ONEMODEL_TRAIN_TRAINER_H_

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "configs/experiment.pb.h"
#include "distributed/communicator.h"

namespace onemodel {

// Where the training time went: one task's micro-batches (data, forward, backward), or a part of the step.
struct TimeShare {
  double seconds = 0;
  int64_t count = 0;  // micro-batches of the task, or times the part ran
};

struct TrainResult {
  int64_t first_step = 0;                // 1, or the step after the checkpoint it resumed from
  int64_t last_step = 0;
  std::vector<double> losses;            // the total loss of every step run here, in order
  std::map<std::string, std::map<std::string, double>> final_eval;  // task -> metric -> value (rank 0)
  double seconds = 0;
  // Task names, then "update" (gradient sync, clipping, optimizer step, weight average), "evaluation" and
  // "checkpoints": what `onemodel train` prints at the end, to show which task or part to make cheaper.
  std::map<std::string, TimeShare> time;
  bool stopped = false;                  // stop_signal (on any rank) ended the run early
};

struct TrainOptions {
  std::string run_dir;       // checkpoints, metrics.jsonl, TensorBoard events
  bool print = true;         // progress lines on stdout
  int64_t stop_after = 0;    // stop (with a checkpoint) after this step, as if interrupted; 0: run to max_steps
  // The ranks training together (train/training_ranks.h; every rank calls Train with the same config and
  // run_dir, on storage they share). Null or of size 1: one process. Rank 0 prints, writes metrics and evaluates.
  distributed::Communicator* world = nullptr;
  // Set (non-zero, e.g. by a SIGTERM/SIGUSR1 handler: preemption) -> checkpoint after the current step and return.
  // The ranks agree on it within the step, so all stop at the same step.
  const std::atomic<int>* stop_signal = nullptr;
};

absl::StatusOr<TrainResult> Train(const config::Experiment& config, const TrainOptions& options);

// The time table `onemodel train` ends with: each part's share of `total_seconds`, largest first, its count and
// time per count, and the rest (set-up, logging) as "other".
std::string TimeSharesText(const std::map<std::string, TimeShare>& time, double total_seconds);

}  // namespace onemodel

#endif  // ONEMODEL_TRAIN_TRAINER_H_
