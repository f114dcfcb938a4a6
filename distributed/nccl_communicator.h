// The NCCL backend of Communicator (DESIGN §7): the same collectives on device memory of this rank's GPU
// (AllToAllV as grouped ncclSend/ncclRecv, AllReduceSum as ncclAllReduce), bootstrapped over a CPU communicator
// (MPI): rank 0 makes the ncclUniqueId and broadcasts it. Calls run on the default stream, after the kernels
// queued before them, and return when complete. Built for real only under --config=cuda; otherwise making one is
// an error that says so.
#ifndef ONEMODEL_DISTRIBUTED_NCCL_COMMUNICATOR_H_
#define ONEMODEL_DISTRIBUTED_NCCL_COMMUNICATOR_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "distributed/communicator.h"

namespace onemodel::distributed {

// Collective over `bootstrap` (every rank calls it): an NCCL communicator of the same ranks on GPU `device`.
// `bootstrap` must outlive it (Split splits the bootstrap group too).
absl::StatusOr<std::unique_ptr<Communicator>> MakeNcclCommunicator(Communicator& bootstrap, int device);

}  // namespace onemodel::distributed

#endif  // ONEMODEL_DISTRIBUTED_NCCL_COMMUNICATOR_H_
