// A Communicator that forwards to another and adds up the wall time of its all-to-all and all-reduce calls: how the
// benchmarks split a step into compute and communication. With `separate_waits`, each all-to-all is preceded by
// a barrier timed on its own (waiting for the slowest rank), so all_to_all_s is the exchange alone.
#ifndef ONEMODEL_DISTRIBUTED_TIMED_COMMUNICATOR_H_
#define ONEMODEL_DISTRIBUTED_TIMED_COMMUNICATOR_H_

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "distributed/communicator.h"

namespace onemodel::distributed {

class TimedCommunicator : public Communicator {
 public:
  explicit TimedCommunicator(Communicator& inner, bool separate_waits = false)
      : inner_(inner), separate_waits_(separate_waits) {}
  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  const std::string& name() const override { return inner_.name(); }
  bool device_buffers() const override { return inner_.device_buffers(); }

  absl::Status AllReduceSum(float* d, int64_t n) override { return Time(&all_reduce_s, [&] { return inner_.AllReduceSum(d, n); }); }
  absl::Status AllReduceSum(double* d, int64_t n) override { return Time(&all_reduce_s, [&] { return inner_.AllReduceSum(d, n); }); }
  absl::Status AllReduceSum(int64_t* d, int64_t n) override { return Time(&all_reduce_s, [&] { return inner_.AllReduceSum(d, n); }); }
  absl::Status Broadcast(void* d, int64_t bytes, int root) override { return inner_.Broadcast(d, bytes, root); }
  absl::Status AllToAll(const int64_t* s, int64_t* r, int64_t per_rank) override {
    if (absl::Status w = Wait(); !w.ok()) return w;
    return Time(&all_to_all_s, [&] { return inner_.AllToAll(s, r, per_rank); });
  }
  absl::Status AllToAllV(const float* s, const std::vector<int64_t>& sc, float* r,
                         const std::vector<int64_t>& rc) override {
    for (int64_t c : sc) all_to_all_bytes += c * static_cast<int64_t>(sizeof(float));
    exchanges.push_back({sc, rc});
    if (absl::Status w = Wait(); !w.ok()) return w;
    return Time(&all_to_all_s, [&] { return inner_.AllToAllV(s, sc, r, rc); });
  }
  absl::Status Barrier() override { return inner_.Barrier(); }
  absl::StatusOr<std::unique_ptr<Communicator>> Split(int color, int key, const std::string& name) override {
    return inner_.Split(color, key, name);
  }

  void Reset() { all_to_all_s = all_reduce_s = wait_s = 0, all_to_all_bytes = 0, exchanges.clear(); }
  double all_to_all_s = 0, all_reduce_s = 0, wait_s = 0;
  int64_t all_to_all_bytes = 0;  // payload sent by this rank
  // The send and receive counts (floats per rank) of every AllToAllV since Reset, for replaying them.
  std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> exchanges;

 private:
  absl::Status Wait() {
    return separate_waits_ ? Time(&wait_s, [&] { return inner_.Barrier(); }) : absl::OkStatus();
  }
  template <typename Fn>
  absl::Status Time(double* total, Fn fn) {
    const auto start = std::chrono::steady_clock::now();
    absl::Status s = fn();
    *total += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return s;
  }
  Communicator& inner_;
  bool separate_waits_;
};

}  // namespace onemodel::distributed

#endif  // ONEMODEL_DISTRIBUTED_TIMED_COMMUNICATOR_H_
