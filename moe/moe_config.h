// Validation of the MoE config: every bad value is an error naming its field (e.g. moe.router.top_k).
#ifndef ONEMODEL_MOE_MOE_CONFIG_H_
#define ONEMODEL_MOE_MOE_CONFIG_H_

#include <string>

#include "absl/status/status.h"
#include "configs/experiment.pb.h"

namespace onemodel::moe {

// `prefix` names the config's place ("moe", "encoder.moe", ...); `dim` is the model dim the layer gets.
absl::Status ValidateMoeConfig(const config::MoeConfig& config, int64_t dim, const std::string& prefix = "moe");

}  // namespace onemodel::moe

#endif  // ONEMODEL_MOE_MOE_CONFIG_H_
