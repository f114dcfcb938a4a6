// The engine demo (README's main job until the multi-task trainer exists): a small depthwise-separable
// CNN trained on Fashion-MNIST from Debian's dataset-fashion-mnist, then evaluated on the test split.
#ifndef ONEMODEL_TOOLS_FMNIST_DEMO_H_
#define ONEMODEL_TOOLS_FMNIST_DEMO_H_

#include <string>

#include "absl/status/statusor.h"
#include "configs/experiment.pb.h"

namespace onemodel {

struct DemoResult {
  double test_accuracy = 0;
  double seconds = 0;
};

// Trains per `config`; writes the final parameters to `<out_dir>/model.safetensors` when out_dir is set.
absl::StatusOr<DemoResult> RunFashionMnistDemo(const config::Experiment& config, const std::string& out_dir);

}  // namespace onemodel

#endif  // ONEMODEL_TOOLS_FMNIST_DEMO_H_
