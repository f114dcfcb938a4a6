// The MPI backend of Communicator (CPU buffers). Only binaries that run under mpirun link it (//distributed:mpi);
// the layers that use a Communicator (moe/, the collectives) depend on the interface alone.
#ifndef ONEMODEL_DISTRIBUTED_MPI_COMMUNICATOR_H_
#define ONEMODEL_DISTRIBUTED_MPI_COMMUNICATOR_H_

#include "distributed/communicator.h"

namespace onemodel::distributed {

// MPI_COMM_WORLD (MPI is initialized on first use and finalized at exit). A process started without mpirun is
// a world of one.
Communicator& MpiWorld();

}  // namespace onemodel::distributed

#endif  // ONEMODEL_DISTRIBUTED_MPI_COMMUNICATOR_H_
