// Which task each micro-batch trains: a categorical draw over the tasks, keyed by (seed, step, micro-batch) so
// that a resumed run draws the same tasks. Weights: by training-set size, size^(1/T), or fixed.
#ifndef ONEMODEL_TRAIN_SAMPLER_H_
#define ONEMODEL_TRAIN_SAMPLER_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "configs/experiment.pb.h"

namespace onemodel {

class TaskSampler {
 public:
  // `sizes`: training examples per task; `tasks`: the config entries (for FIXED weights).
  static absl::StatusOr<TaskSampler> Make(const config::SamplerConfig& config,
                                          const google::protobuf::RepeatedPtrField<config::TaskConfig>& tasks,
                                          const std::vector<int64_t>& sizes, uint64_t seed);
  int Pick(int64_t step, int micro_batch) const;
  const std::vector<double>& probabilities() const { return probabilities_; }

 private:
  std::vector<double> probabilities_;
  uint64_t seed_ = 0;
};

}  // namespace onemodel

#endif  // ONEMODEL_TRAIN_SAMPLER_H_
