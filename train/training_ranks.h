// Where one training process sits among the ranks of a run (DESIGN §4, §7), and the collectives the trainer needs:
// every rank trains on its own rows of each batch; experts are sharded over expert groups of EP ranks and
// replicated over the world / EP data groups; dense parameters are replicated everywhere. One process is rank 0 of
// 1, and every call below is then local (no communicator needed).
#ifndef ONEMODEL_TRAIN_TRAINING_RANKS_H_
#define ONEMODEL_TRAIN_TRAINING_RANKS_H_

#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "configs/experiment.pb.h"
#include "core/module.h"
#include "distributed/communicator.h"
#include "distributed/process_groups.h"
#include "moe/moe_layer.h"

namespace onemodel {

class TrainingRanks {
 public:
  // `world` null or of size 1: one process. Checks that the config can be spread over the world (errors name the
  // field: distributed.expert_parallel, model.*_moe.num_experts, tasks[i].batch_size, ...).
  static absl::StatusOr<TrainingRanks> Make(const config::Experiment& config, distributed::Communicator* world);

  int rank() const { return world_ == nullptr ? 0 : world_->rank(); }
  int size() const { return world_ == nullptr ? 1 : world_->size(); }
  int expert_parallel() const { return groups_ ? groups_->expert_parallel : 1; }
  int expert_shard() const { return groups_ ? groups_->expert_rank() : 0; }
  // One replica of each expert shard writes it to checkpoints: the ranks of data shard 0.
  bool writes_experts() const { return !groups_ || groups_->data_rank() == 0; }
  // The group that writes checkpoints together (null: one process).
  distributed::Communicator* world() const { return world_; }
  moe::MoeParallel MoeParallel() const;

  // This rank's rows [begin, end) of a batch of `rows` rows.
  std::pair<int64_t, int64_t> Rows(int64_t rows) const { return {rows * rank() / size(), rows * (rank() + 1) / size()}; }
  // values[i] = their sum over the ranks.
  absl::Status Sum(double* values, int64_t count) const;
  // After every rank's backward: gradients become those of the whole batch's loss (each rank's loss must be scaled
  // so that the mean over ranks of its gradient is the whole-batch gradient), then clipping to `clip_norm` (0: none)
  // over the whole model's gradient norm.
  absl::Status SyncAndClip(const NamedTensors& params, float clip_norm) const;
  // `full` (on rank 0 only; an unsharded model of the same config) gets the values of the sharded `params`:
  // experts gathered over rank 0's expert group. Collective over the world (other ranks pass an empty `full`);
  // nothing to do for one process.
  absl::Status GatherOnRankZero(const NamedTensors& params, const NamedTensors& full) const;
  absl::Status Barrier() const;

 private:
  distributed::Communicator* world_ = nullptr;
  std::optional<distributed::ProcessGroups> groups_;
};

}  // namespace onemodel

#endif  // ONEMODEL_TRAIN_TRAINING_RANKS_H_
