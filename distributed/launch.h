// Joining the ranks a launcher started: mpirun, or srun --mpi=pmix inside a SLURM allocation (DESIGN §7).
#ifndef ONEMODEL_DISTRIBUTED_LAUNCH_H_
#define ONEMODEL_DISTRIBUTED_LAUNCH_H_

#include <memory>
#include <string>

#include "distributed/communicator.h"
#include "distributed/watchdog.h"

namespace onemodel::distributed {

// Whether a launcher started this process as one of several ranks (its environment says so).
bool StartedByLauncher();

struct LaunchedWorld {
  std::shared_ptr<Watchdog> watchdog;
  std::unique_ptr<Communicator> world;  // the MPI world, watched
};

// The MPI world with a watchdog (heartbeats in `heartbeat_dir`, shared by the ranks; see watchdog.h).
LaunchedWorld JoinLaunchedWorld(const std::string& heartbeat_dir, double timeout_seconds);

}  // namespace onemodel::distributed

#endif  // ONEMODEL_DISTRIBUTED_LAUNCH_H_
