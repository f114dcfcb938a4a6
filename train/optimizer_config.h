// Optimizers and learning-rate schedules built from the experiment config, with the config validated:
// a bad value is an error naming its field.
#ifndef ONEMODEL_TRAIN_OPTIMIZER_CONFIG_H_
#define ONEMODEL_TRAIN_OPTIMIZER_CONFIG_H_

#include <memory>

#include "absl/status/statusor.h"
#include "configs/experiment.pb.h"
#include "core/optim.h"

namespace onemodel {

absl::StatusOr<std::unique_ptr<Optimizer>> MakeOptimizer(const config::OptimizerConfig& config, NamedTensors params);
// The moving average of the weights optimizer.ema_decay asks for, or null when it is 0.
absl::StatusOr<std::unique_ptr<ExponentialMovingAverage>> MakeWeightAverage(const config::OptimizerConfig& config,
                                                                            NamedTensors params);
absl::StatusOr<LrSchedule> MakeSchedule(const config::OptimizerConfig& optimizer,
                                        const config::ScheduleConfig& schedule, int64_t total_steps);

}  // namespace onemodel

#endif  // ONEMODEL_TRAIN_OPTIMIZER_CONFIG_H_
