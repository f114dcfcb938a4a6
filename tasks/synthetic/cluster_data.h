// Data of the cluster-structured synthetic task (Chen et al. 2022; configs ClusterDataConfig).
#ifndef ONEMODEL_TASKS_SYNTHETIC_CLUSTER_DATA_H_
#define ONEMODEL_TASKS_SYNTHETIC_CLUSTER_DATA_H_

#include "absl/status/statusor.h"
#include "configs/experiment.pb.h"
#include "core/tensor.h"

namespace onemodel::synthetic {

struct ClusterData {
  Tensor x;         // [n, patches, dim] f32
  Tensor label;     // [n] i64: 0 for y = -1, 1 for y = +1
  Tensor cluster;   // [n] i64
};

struct ClusterDataset {
  Tensor features;  // [clusters, dim] v_k
  Tensor centers;   // [clusters, dim] c_k (orthonormal with the features)
  ClusterData train, test;
};

// Validates the config (errors name the field) and generates train and test sets from `seed`.
absl::StatusOr<ClusterDataset> MakeClusterDataset(const config::ClusterDataConfig& config, uint64_t seed);

}  // namespace onemodel::synthetic

#endif  // ONEMODEL_TASKS_SYNTHETIC_CLUSTER_DATA_H_
