// An experiment's tasks and model, built from its config: the registry creates each configured task (each
// loads its data), the tasks' modalities shape the model. Shared by training, evaluation and benchmarks.
#ifndef ONEMODEL_TRAIN_SESSION_H_
#define ONEMODEL_TRAIN_SESSION_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "configs/experiment.pb.h"
#include "model/multimodel.h"
#include "tasks/task.h"

namespace onemodel {

struct Session {
  config::Experiment config;
  std::vector<std::unique_ptr<tasks::Task>> tasks;
  std::vector<model::TaskHead> heads;  // the tasks' heads, in task order
  std::unique_ptr<model::MultiModel> model;
  int TaskIndex(const std::string& name) const;  // -1 if absent
};

// Validates the model and task config (errors name the field) and loads every task's data. `parallel` shards the
// model's experts and batches over ranks (moe::MoeParallel).
absl::StatusOr<Session> BuildSession(const config::Experiment& config, const moe::MoeParallel& parallel = {});

// Parameters per top-level part ("encoder", "symbols.translation", ...), in first-seen order.
std::vector<std::pair<std::string, int64_t>> ParametersByPart(const NamedTensors& params);

}  // namespace onemodel

#endif  // ONEMODEL_TRAIN_SESSION_H_
