// Loading experiment configs (protobuf text format, schema in experiment.proto).
#ifndef ONEMODEL_CONFIGS_CONFIG_H_
#define ONEMODEL_CONFIGS_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "configs/experiment.pb.h"

namespace onemodel {

// Parses text; `source` names it in errors ("<source>:<line>:<col>: <what>"), e.g. an unknown field.
absl::StatusOr<config::Experiment> ParseExperiment(const std::string& text, const std::string& source);
absl::StatusOr<config::Experiment> LoadExperiment(const std::string& path);

}  // namespace onemodel

#endif  // ONEMODEL_CONFIGS_CONFIG_H_
