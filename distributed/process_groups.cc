#include "distributed/process_groups.h"

#include "absl/strings/str_cat.h"

namespace onemodel::distributed {

absl::StatusOr<ProcessGroups> MakeProcessGroups(Communicator& world, int expert_parallel) {
  if (expert_parallel < 1 || world.size() % expert_parallel != 0) {
    return absl::InvalidArgumentError(absl::StrCat("config field distributed.expert_parallel: ", expert_parallel,
                                                   " must divide the number of ranks (", world.size(), ")"));
  }
  ProcessGroups g;
  g.world = &world;
  g.expert_parallel = expert_parallel;
  const int r = world.rank();
  absl::StatusOr<std::unique_ptr<Communicator>> expert = world.Split(r / expert_parallel, r % expert_parallel, "expert");
  if (!expert.ok()) return expert.status();
  absl::StatusOr<std::unique_ptr<Communicator>> data = world.Split(r % expert_parallel, r / expert_parallel, "data");
  if (!data.ok()) return data.status();
  g.expert = *std::move(expert);
  g.data = *std::move(data);
  return g;
}

}  // namespace onemodel::distributed
