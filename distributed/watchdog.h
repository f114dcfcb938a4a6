// Failure detection for collectives (DESIGN §7: no silent hang). A rank that dies or stops answering leaves the
// others blocked in a collective; the watchdog's thread ends such a rank once one collective has waited longer
// than the timeout, with a message naming the rank(s) that stopped answering, and exit status kWatchdogExit.
//
// To name them, every rank's watchdog writes a heartbeat file (rank-<r> in a directory all ranks share: the run
// directory) about once a second: collectives completed, wall time, pid, host, the collective it is in. A waiting
// rank reads the others': a stale heartbeat is a dead or stopped process (its pid is checked when on this host),
// a fresh one with fewer collectives done is alive but elsewhere (e.g. evaluating, or in a longer computation).
#ifndef ONEMODEL_DISTRIBUTED_WATCHDOG_H_
#define ONEMODEL_DISTRIBUTED_WATCHDOG_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "distributed/communicator.h"

namespace onemodel::distributed {

constexpr int kWatchdogExit = 3;

class Watchdog {
 public:
  // Starts the thread (and writes the first heartbeat).
  Watchdog(int rank, int size, std::string heartbeat_dir, double timeout_seconds);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Brackets one collective on `group`.
  void Enter(const char* op, const std::string& group);
  void Leave();

  // What the message names, from the heartbeats (also used by tests).
  std::string Diagnose() const;

 private:
  void Run();
  void WriteHeartbeat();
  std::string Message(double waited) const;

  const int rank_, size_;
  const std::string dir_;
  const double timeout_;
  std::string host_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  const char* op_ = nullptr;  // the collective in flight, or null
  std::string group_;
  std::chrono::steady_clock::time_point since_;
  int64_t completed_ = 0;
  std::thread thread_;
};

// A Communicator that brackets every call of another with a Watchdog; groups split from it are watched too.
class WatchedCommunicator : public Communicator {
 public:
  WatchedCommunicator(Communicator& inner, std::shared_ptr<Watchdog> watchdog)
      : inner_(&inner), watchdog_(std::move(watchdog)) {}
  WatchedCommunicator(std::unique_ptr<Communicator> owned, std::shared_ptr<Watchdog> watchdog)
      : inner_(owned.get()), owned_(std::move(owned)), watchdog_(std::move(watchdog)) {}
  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  const std::string& name() const override { return inner_->name(); }
  bool device_buffers() const override { return inner_->device_buffers(); }

  absl::Status AllReduceSum(float* d, int64_t n) override { return Watch("all-reduce", [&] { return inner_->AllReduceSum(d, n); }); }
  absl::Status AllReduceSum(double* d, int64_t n) override { return Watch("all-reduce", [&] { return inner_->AllReduceSum(d, n); }); }
  absl::Status AllReduceSum(int64_t* d, int64_t n) override { return Watch("all-reduce", [&] { return inner_->AllReduceSum(d, n); }); }
  absl::Status Broadcast(void* d, int64_t bytes, int root) override {
    return Watch("broadcast", [&] { return inner_->Broadcast(d, bytes, root); });
  }
  absl::Status AllToAll(const int64_t* s, int64_t* r, int64_t per_rank) override {
    return Watch("all-to-all", [&] { return inner_->AllToAll(s, r, per_rank); });
  }
  absl::Status AllToAllV(const float* s, const std::vector<int64_t>& sc, float* r,
                         const std::vector<int64_t>& rc) override {
    return Watch("all-to-all-v", [&] { return inner_->AllToAllV(s, sc, r, rc); });
  }
  absl::Status Barrier() override { return Watch("barrier", [&] { return inner_->Barrier(); }); }
  absl::StatusOr<std::unique_ptr<Communicator>> Split(int color, int key, const std::string& name) override {
    absl::StatusOr<std::unique_ptr<Communicator>> sub;
    absl::Status s = Watch("split", [&] {
      sub = inner_->Split(color, key, name);
      return sub.status();
    });
    if (!s.ok()) return s;
    return std::unique_ptr<Communicator>(new WatchedCommunicator(*std::move(sub), watchdog_));
  }

 private:
  template <typename Fn>
  absl::Status Watch(const char* op, Fn fn) {
    watchdog_->Enter(op, inner_->name());
    absl::Status s = fn();
    watchdog_->Leave();
    return s;
  }
  Communicator* inner_;
  std::unique_ptr<Communicator> owned_;
  std::shared_ptr<Watchdog> watchdog_;
};

}  // namespace onemodel::distributed

#endif  // ONEMODEL_DISTRIBUTED_WATCHDOG_H_
