// The process groups of expert + data parallelism (DESIGN §4, §7): world = EP x DP ranks. Rank r holds expert
// shard r % EP (E / EP experts) and data shard r / EP. The expert group of a rank is the EP ranks that share its
// data shard (its all-to-all partners); its data group is the DP ranks that hold the same experts (replicas whose
// expert gradients it averages). Dense parameters are replicated on every rank (averaged over the world).
#ifndef ONEMODEL_DISTRIBUTED_PROCESS_GROUPS_H_
#define ONEMODEL_DISTRIBUTED_PROCESS_GROUPS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "distributed/communicator.h"

namespace onemodel::distributed {

struct ProcessGroups {
  Communicator* world = nullptr;
  std::unique_ptr<Communicator> expert;  // size EP
  std::unique_ptr<Communicator> data;    // size DP = world / EP
  int expert_parallel = 1;
  int expert_rank() const { return expert->rank(); }
  int data_rank() const { return data->rank(); }
};

// `expert_parallel` must divide the world size (an error naming the field otherwise).
absl::StatusOr<ProcessGroups> MakeProcessGroups(Communicator& world, int expert_parallel);

}  // namespace onemodel::distributed

#endif  // ONEMODEL_DISTRIBUTED_PROCESS_GROUPS_H_
