// Collective communication among the ranks of a group (DESIGN §7). The MPI backend moves CPU buffers; an NCCL
// backend for GPU tensors (bootstrapped over MPI) implements the same interface. Every call is collective:
// all ranks of the group make it, in the same order. Failures come back as errors naming the operation.
#ifndef ONEMODEL_DISTRIBUTED_COMMUNICATOR_H_
#define ONEMODEL_DISTRIBUTED_COMMUNICATOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace onemodel::distributed {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // "world", "expert", "data": for messages.
  virtual const std::string& name() const = 0;
  // Whether the float collectives (AllReduceSum of floats, AllToAllV: tensor data) take device (GPU) memory:
  // NCCL's do, MPI's take host memory. The others (counts, flags, statistics) always take host memory.
  virtual bool device_buffers() const { return false; }

  // data[i] = sum over ranks of data[i], in place.
  virtual absl::Status AllReduceSum(float* data, int64_t count) = 0;
  virtual absl::Status AllReduceSum(double* data, int64_t count) = 0;
  virtual absl::Status AllReduceSum(int64_t* data, int64_t count) = 0;
  // root's `bytes` bytes to every rank.
  virtual absl::Status Broadcast(void* data, int64_t bytes, int root) = 0;
  // send holds size() blocks of `per_rank` values, block r for rank r; recv gets block `rank()` of every rank.
  virtual absl::Status AllToAll(const int64_t* send, int64_t* recv, int64_t per_rank) = 0;
  // Variable all-to-all of float rows: send holds send_counts[r] floats for rank r, contiguous in rank order;
  // recv gets recv_counts[r] floats from rank r, in rank order.
  virtual absl::Status AllToAllV(const float* send, const std::vector<int64_t>& send_counts, float* recv,
                                 const std::vector<int64_t>& recv_counts) = 0;
  virtual absl::Status Barrier() = 0;
  // The ranks with the same `color` form a new group, ordered by `key` (collective over this group).
  virtual absl::StatusOr<std::unique_ptr<Communicator>> Split(int color, int key, const std::string& name) = 0;
};

}  // namespace onemodel::distributed

#endif  // ONEMODEL_DISTRIBUTED_COMMUNICATOR_H_
