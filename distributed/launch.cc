#include "distributed/launch.h"

#include <cstdlib>

#include "distributed/mpi_communicator.h"

namespace onemodel::distributed {

bool StartedByLauncher() {
  // OpenMPI's mpirun sets OMPI_COMM_WORLD_SIZE; srun --mpi=pmix sets PMIX_RANK.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

LaunchedWorld JoinLaunchedWorld(const std::string& heartbeat_dir, double timeout_seconds) {
  Communicator& mpi = MpiWorld();
  LaunchedWorld launched;
  launched.watchdog = std::make_shared<Watchdog>(mpi.rank(), mpi.size(), heartbeat_dir, timeout_seconds);
  launched.world = std::make_unique<WatchedCommunicator>(mpi, launched.watchdog);
  return launched;
}

}  // namespace onemodel::distributed
