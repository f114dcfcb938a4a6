#include "train/sampler.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/rng.h"

namespace onemodel {
namespace {
constexpr uint16_t kSamplerPurpose = 7;
}  // namespace

absl::StatusOr<TaskSampler> TaskSampler::Make(const config::SamplerConfig& config,
                                              const google::protobuf::RepeatedPtrField<config::TaskConfig>& tasks,
                                              const std::vector<int64_t>& sizes, uint64_t seed) {
  if (config.kind() == config::SamplerConfig::TEMPERATURE && !(config.temperature() > 0)) {
    return absl::InvalidArgumentError("config field sampler.temperature must be > 0");
  }
  TaskSampler s;
  s.seed_ = seed;
  double total = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    double w = static_cast<double>(sizes[i]);
    if (config.kind() == config::SamplerConfig::TEMPERATURE) w = std::pow(w, 1.0 / config.temperature());
    if (config.kind() == config::SamplerConfig::FIXED) {
      w = tasks.Get(i).weight();
      if (!(w >= 0)) return absl::InvalidArgumentError(absl::StrCat("config field tasks[", i, "].weight must be >= 0"));
    }
    s.probabilities_.push_back(w);
    total += w;
  }
  if (!(total > 0)) return absl::InvalidArgumentError("config field sampler: every task has weight 0");
  for (double& p : s.probabilities_) p /= total;
  return s;
}

int TaskSampler::Pick(int64_t step, int micro_batch) const {
  const double u = UniformAt(RngKey{seed_, static_cast<uint32_t>(step), 0, kSamplerPurpose}, micro_batch);
  double cumulative = 0;
  for (size_t i = 0; i < probabilities_.size(); ++i) {
    cumulative += probabilities_[i];
    if (u < cumulative) return static_cast<int>(i);
  }
  // u just below 1 with rounding in the sum: the last task with any weight.
  for (size_t i = probabilities_.size(); i-- > 0;) {
    if (probabilities_[i] > 0) return static_cast<int>(i);
  }
  return 0;
}

}  // namespace onemodel
