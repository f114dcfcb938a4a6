// Task modules and their registry (tensor2tensor style): a task registers itself from its own folder with
// ONEMODEL_REGISTER_TASK, and the trainer builds tasks from the config by name without naming any.
// A task declares its modalities (model::TaskHead), serves deterministic training batches, and evaluates a
// model on its test split with its own metrics.
#ifndef ONEMODEL_TASKS_TASK_H_
#define ONEMODEL_TASKS_TASK_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "configs/experiment.pb.h"
#include "model/batch.h"
#include "model/multimodel.h"

namespace onemodel::tasks {

struct EvalResult {
  // name -> value; the first is the task's headline metric (the one `onemodel eval` charts).
  std::vector<std::pair<std::string, double>> metrics;
  std::vector<std::string> samples;  // a few "input => output (reference)" lines for the log
  int64_t examples = 0;
};

class Task {
 public:
  virtual ~Task() = default;
  virtual model::TaskHead Head() const = 0;
  virtual int64_t TrainExamples() const = 0;
  // Batch number `position` (0, 1, 2, ...) of this task's training stream: a pure function of the position,
  // the experiment seed and the config, so resuming from a stored position reads the same batches.
  virtual model::Batch TrainBatch(int64_t position) const = 0;
  // The model's metrics on (up to `examples`, 0: all) test examples. `task` is this task's index in the model.
  virtual EvalResult Evaluate(const model::MultiModel& model, int task, int64_t examples) const = 0;
};

// What a factory gets: its config entry, where that entry is ("tasks[1]", for error messages), and the seed.
struct TaskContext {
  const config::TaskConfig& config;
  std::string field;
  uint64_t seed = 1;
  // The task's own random stream id, from its name: a task reads the same batches in any experiment
  // (alone or with others), which is what a fair single-task vs multi-task comparison needs.
  uint16_t stream = 0;
};

using TaskFactory = std::function<absl::StatusOr<std::unique_ptr<Task>>(const TaskContext&)>;

class TaskRegistry {
 public:
  // Returns true (for static registration); a second registration of one name is a fatal error.
  static bool Register(const std::string& name, const std::string& description, TaskFactory factory);
  // An unregistered name is an error naming `<field>.name` and every registered task.
  static absl::StatusOr<std::unique_ptr<Task>> Create(const TaskContext& context);
  // (name, description) of every registered task, sorted by name.
  static std::vector<std::pair<std::string, std::string>> List();
};

// Rejects option keys other than `known`, naming `<field>.options`.
absl::Status CheckOptions(const TaskContext& context, const std::vector<std::string>& known);

// The value of option `key`, or `fallback` where the config does not set it.
std::string OptionOr(const TaskContext& context, const std::string& key, const std::string& fallback);
// "config field <field>.options[<key>]": how errors name an option.
std::string OptionField(const TaskContext& context, const std::string& key);

}  // namespace onemodel::tasks

#define ONEMODEL_TASK_CONCAT_INNER(a, b) a##b
#define ONEMODEL_TASK_CONCAT(a, b) ONEMODEL_TASK_CONCAT_INNER(a, b)
// In a task's .cc (its cc_library needs alwayslink = 1 so that the linker keeps the registration).
#define ONEMODEL_REGISTER_TASK(name, description, factory)                           \
  static const bool ONEMODEL_TASK_CONCAT(onemodel_task_registered_, __COUNTER__) = \
      ::onemodel::tasks::TaskRegistry::Register(name, description, factory)

#endif  // ONEMODEL_TASKS_TASK_H_
