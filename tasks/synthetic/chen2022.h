// Reproduction of Chen et al. 2022 ("Towards Understanding Mixture of Experts in Deep Learning") on the
// cluster-structured data: four models — a single expert (linear or cubic) and an MoE of E experts
// (linear or cubic) with a top-1 router — trained with the recipe calibrated in DESIGN §5.
#ifndef ONEMODEL_TASKS_SYNTHETIC_CHEN2022_H_
#define ONEMODEL_TASKS_SYNTHETIC_CHEN2022_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "configs/experiment.pb.h"
#include "tasks/synthetic/cluster_data.h"

namespace onemodel::synthetic {

enum class ChenModel { kSingleLinear, kSingleCubic, kMoeLinear, kMoeCubic };
const char* ChenModelName(ChenModel model);

struct ChenRun {
  double test_accuracy = 0;
  double dispatch_entropy = -1;  // MoE only: H(cluster | expert) on the test set, nats
  double final_loss = 0;
  double seconds = 0;
};

// Trains one model on one dataset. `progress`, if set, gets a line now and then.
ChenRun TrainChenModel(ChenModel model, const config::Chen2022Config& config, const ClusterDataset& data,
                       uint64_t seed, const std::function<void(const std::string&)>& progress = nullptr);

struct ChenSummary {
  ChenModel model;
  double acc_mean, acc_std, entropy_mean, entropy_std;
  std::vector<ChenRun> runs;
};

// All four models over config.seeds() seeds (a fresh dataset per seed). Prints the table and the BENCH line.
absl::StatusOr<std::vector<ChenSummary>> RunChen2022(const config::Chen2022Config& config);

}  // namespace onemodel::synthetic

#endif  // ONEMODEL_TASKS_SYNTHETIC_CHEN2022_H_
