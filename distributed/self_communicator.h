// A group of one process: every collective is the identity (a copy where the output is another buffer). The
// bootstrap of a one-rank NCCL communicator in tests, and a reference for what each collective means at size 1.
#ifndef ONEMODEL_DISTRIBUTED_SELF_COMMUNICATOR_H_
#define ONEMODEL_DISTRIBUTED_SELF_COMMUNICATOR_H_

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "distributed/communicator.h"

namespace onemodel::distributed {

class SelfCommunicator : public Communicator {
 public:
  explicit SelfCommunicator(std::string name = "self") : name_(std::move(name)) {}
  int rank() const override { return 0; }
  int size() const override { return 1; }
  const std::string& name() const override { return name_; }
  absl::Status AllReduceSum(float*, int64_t) override { return absl::OkStatus(); }
  absl::Status AllReduceSum(double*, int64_t) override { return absl::OkStatus(); }
  absl::Status AllReduceSum(int64_t*, int64_t) override { return absl::OkStatus(); }
  absl::Status Broadcast(void*, int64_t, int) override { return absl::OkStatus(); }
  absl::Status AllToAll(const int64_t* send, int64_t* recv, int64_t per_rank) override {
    std::memmove(recv, send, per_rank * sizeof(int64_t));
    return absl::OkStatus();
  }
  absl::Status AllToAllV(const float* send, const std::vector<int64_t>& send_counts, float* recv,
                         const std::vector<int64_t>& recv_counts) override {
    if (send_counts.size() != 1 || recv_counts.size() != 1 || send_counts[0] != recv_counts[0]) {
      return absl::InvalidArgumentError("AllToAllV on a group of one: one count, the same both ways");
    }
    std::memmove(recv, send, send_counts[0] * sizeof(float));
    return absl::OkStatus();
  }
  absl::Status Barrier() override { return absl::OkStatus(); }
  absl::StatusOr<std::unique_ptr<Communicator>> Split(int, int, const std::string& name) override {
    return std::unique_ptr<Communicator>(new SelfCommunicator(name));
  }

 private:
  std::string name_;
};

}  // namespace onemodel::distributed

#endif  // ONEMODEL_DISTRIBUTED_SELF_COMMUNICATOR_H_
