// MakeNcclCommunicator of a build without --config=cuda.
#include "absl/strings/str_cat.h"
#include "distributed/nccl_communicator.h"

namespace onemodel::distributed {

absl::StatusOr<std::unique_ptr<Communicator>> MakeNcclCommunicator(Communicator&, int) {
  return absl::UnimplementedError("the NCCL backend needs a CUDA build (bazel build --config=cuda)");
}

}  // namespace onemodel::distributed
