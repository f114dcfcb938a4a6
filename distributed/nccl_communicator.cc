#include "distributed/nccl_communicator.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <vector>

#include "absl/strings/str_cat.h"

namespace onemodel::distributed {
namespace {

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(Communicator& bootstrap, std::unique_ptr<Communicator> owned_bootstrap, ncclComm_t comm, int device)
      : bootstrap_(bootstrap), owned_bootstrap_(std::move(owned_bootstrap)), comm_(comm), device_(device) {}
  ~NcclCommunicator() override { ncclCommDestroy(comm_); }

  int rank() const override { return bootstrap_.rank(); }
  int size() const override { return bootstrap_.size(); }
  const std::string& name() const override { return bootstrap_.name(); }
  bool device_buffers() const override { return true; }

  // Tensors' floats move through NCCL on the device.
  absl::Status AllReduceSum(float* d, int64_t n) override {
    return Finish("AllReduceSum", ncclAllReduce(d, d, static_cast<size_t>(n), ncclFloat, ncclSum, comm_, nullptr));
  }
  // Counts, flags and statistics live on the host: they go through the bootstrap group (communicator.h).
  absl::Status AllReduceSum(double* d, int64_t n) override { return bootstrap_.AllReduceSum(d, n); }
  absl::Status AllReduceSum(int64_t* d, int64_t n) override { return bootstrap_.AllReduceSum(d, n); }
  absl::Status Broadcast(void* data, int64_t bytes, int root) override { return bootstrap_.Broadcast(data, bytes, root); }
  absl::Status AllToAll(const int64_t* send, int64_t* recv, int64_t per_rank) override {
    return bootstrap_.AllToAll(send, recv, per_rank);
  }
  absl::Status AllToAllV(const float* send, const std::vector<int64_t>& send_counts, float* recv,
                         const std::vector<int64_t>& recv_counts) override {
    if (static_cast<int>(send_counts.size()) != size() || static_cast<int>(recv_counts.size()) != size()) {
      return absl::InvalidArgumentError(absl::StrCat("AllToAllV on ", name(), ": needs ", size(), " counts each"));
    }
    int64_t send_at = 0, recv_at = 0;
    ncclGroupStart();
    for (int r = 0; r < size(); ++r) {
      if (send_counts[r] > 0) ncclSend(send + send_at, send_counts[r], ncclFloat, r, comm_, nullptr);
      if (recv_counts[r] > 0) ncclRecv(recv + recv_at, recv_counts[r], ncclFloat, r, comm_, nullptr);
      send_at += send_counts[r];
      recv_at += recv_counts[r];
    }
    return Finish("AllToAllV", ncclGroupEnd());
  }
  absl::Status Barrier() override { return bootstrap_.Barrier(); }
  absl::StatusOr<std::unique_ptr<Communicator>> Split(int color, int key, const std::string& name) override {
    absl::StatusOr<std::unique_ptr<Communicator>> sub = bootstrap_.Split(color, key, name);
    if (!sub.ok()) return sub.status();
    return Make(*std::move(sub), device_);
  }

  // Collective over `bootstrap`; the communicator owns it.
  static absl::StatusOr<std::unique_ptr<Communicator>> Make(std::unique_ptr<Communicator> bootstrap, int device) {
    Communicator& b = *bootstrap;
    return Make(b, std::move(bootstrap), device);
  }
  static absl::StatusOr<std::unique_ptr<Communicator>> Make(Communicator& bootstrap,
                                                            std::unique_ptr<Communicator> owned, int device) {
    if (cudaError_t e = cudaSetDevice(device); e != cudaSuccess) {
      return absl::FailedPreconditionError(absl::StrCat("NCCL on ", bootstrap.name(), " (rank ", bootstrap.rank(),
                                                        "): cudaSetDevice(", device, "): ", cudaGetErrorString(e)));
    }
    ncclUniqueId id;
    if (bootstrap.rank() == 0) {
      if (ncclResult_t r = ncclGetUniqueId(&id); r != ncclSuccess) {
        return absl::InternalError(absl::StrCat("ncclGetUniqueId: ", ncclGetErrorString(r)));
      }
    }
    if (absl::Status s = bootstrap.Broadcast(&id, sizeof(id), 0); !s.ok()) return s;
    ncclComm_t comm;
    if (ncclResult_t r = ncclCommInitRank(&comm, bootstrap.size(), id, bootstrap.rank()); r != ncclSuccess) {
      return absl::InternalError(absl::StrCat("ncclCommInitRank on ", bootstrap.name(), " (rank ", bootstrap.rank(),
                                              " of ", bootstrap.size(), "): ", ncclGetErrorString(r)));
    }
    return std::unique_ptr<Communicator>(new NcclCommunicator(bootstrap, std::move(owned), comm, device));
  }

 private:
  // Waits for the operation (the default stream) and turns NCCL's and CUDA's errors into a Status.
  absl::Status Finish(const char* op, ncclResult_t result) {
    if (result != ncclSuccess) {
      return absl::InternalError(absl::StrCat(op, " on ", name(), " (NCCL, rank ", rank(), " of ", size(),
                                              ") failed: ", ncclGetErrorString(result)));
    }
    if (cudaError_t e = cudaStreamSynchronize(nullptr); e != cudaSuccess) {
      return absl::InternalError(absl::StrCat(op, " on ", name(), " (NCCL, rank ", rank(), "): ", cudaGetErrorString(e)));
    }
    return absl::OkStatus();
  }

  Communicator& bootstrap_;
  std::unique_ptr<Communicator> owned_bootstrap_;
  ncclComm_t comm_;
  int device_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Communicator>> MakeNcclCommunicator(Communicator& bootstrap, int device) {
  return NcclCommunicator::Make(bootstrap, nullptr, device);
}

}  // namespace onemodel::distributed
