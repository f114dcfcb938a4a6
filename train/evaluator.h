// Cross-task evaluation of checkpoints (`onemodel eval`): each checkpoint's own config rebuilds its tasks and
// model, its parameters are restored (verified), and every selected task is evaluated on its test split. The
// result is a checkpoint x task table, as text, JSON and a PNG bar chart of each task's headline metric.
#ifndef ONEMODEL_TRAIN_EVALUATOR_H_
#define ONEMODEL_TRAIN_EVALUATOR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tasks/task.h"

namespace onemodel {

struct CheckpointEval {
  std::string checkpoint;
  int64_t step = 0;
  std::vector<std::pair<std::string, tasks::EvalResult>> tasks;  // in the checkpoint's task order
};

struct EvalOptions {
  std::vector<std::string> tasks;  // names; empty: every task of each checkpoint
  int64_t examples = 0;            // test examples per task; 0: the whole test split
  bool print = true;               // per-task progress and sample outputs
};

// `checkpoints`: ckpt-<step> directories, or run directories (their `latest` checkpoint).
absl::StatusOr<std::vector<CheckpointEval>> EvaluateCheckpoints(const std::vector<std::string>& checkpoints,
                                                                const EvalOptions& options);

std::string EvalTableText(const std::vector<CheckpointEval>& evals);
std::string EvalJson(const std::vector<CheckpointEval>& evals);
// Reads what EvalJson wrote (the task order within a checkpoint is not kept: JSON objects are unordered).
absl::StatusOr<std::vector<CheckpointEval>> ReadEvalJson(const std::string& path);
absl::Status WriteEvalChart(const std::vector<CheckpointEval>& evals, const std::string& png_path);

}  // namespace onemodel

#endif  // ONEMODEL_TRAIN_EVALUATOR_H_
