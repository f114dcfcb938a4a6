// The MPI backend of Communicator. Errors return (MPI_ERRORS_RETURN) instead of aborting, so a failed call
// becomes a Status naming the operation, the group and MPI's own message.
#include <mpi.h>

#include <cstdlib>
#include <limits>

#include "absl/strings/str_cat.h"
#include "distributed/mpi_communicator.h"
#include "glog/logging.h"

namespace onemodel::distributed {
namespace {

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator(MPI_Comm comm, std::string name, bool owned) : comm_(comm), name_(std::move(name)), owned_(owned) {
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owned_ && !finalized) MPI_Comm_free(&comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const std::string& name() const override { return name_; }

  absl::Status AllReduceSum(float* data, int64_t count) override {
    return Reduce("AllReduceSum", data, count, MPI_FLOAT);
  }
  absl::Status AllReduceSum(double* data, int64_t count) override {
    return Reduce("AllReduceSum", data, count, MPI_DOUBLE);
  }
  absl::Status AllReduceSum(int64_t* data, int64_t count) override {
    return Reduce("AllReduceSum", data, count, MPI_INT64_T);
  }

  absl::Status Broadcast(void* data, int64_t bytes, int root) override {
    if (absl::Status s = CheckCount("Broadcast", bytes); !s.ok()) return s;
    return Check("Broadcast", MPI_Bcast(data, static_cast<int>(bytes), MPI_BYTE, root, comm_));
  }

  absl::Status AllToAll(const int64_t* send, int64_t* recv, int64_t per_rank) override {
    if (absl::Status s = CheckCount("AllToAll", per_rank * size_); !s.ok()) return s;
    return Check("AllToAll", MPI_Alltoall(send, static_cast<int>(per_rank), MPI_INT64_T, recv,
                                          static_cast<int>(per_rank), MPI_INT64_T, comm_));
  }

  absl::Status AllToAllV(const float* send, const std::vector<int64_t>& send_counts, float* recv,
                         const std::vector<int64_t>& recv_counts) override {
    if (static_cast<int>(send_counts.size()) != size_ || static_cast<int>(recv_counts.size()) != size_) {
      return absl::InvalidArgumentError(absl::StrCat("AllToAllV on ", name_, ": needs ", size_, " counts each, got ",
                                                     send_counts.size(), " and ", recv_counts.size()));
    }
    std::vector<int> sc(size_), sd(size_), rc(size_), rd(size_);
    int64_t send_total = 0, recv_total = 0;
    for (int r = 0; r < size_; ++r) {
      sd[r] = static_cast<int>(send_total);
      rd[r] = static_cast<int>(recv_total);
      sc[r] = static_cast<int>(send_counts[r]);
      rc[r] = static_cast<int>(recv_counts[r]);
      send_total += send_counts[r];
      recv_total += recv_counts[r];
      if (absl::Status s = CheckCount("AllToAllV", std::max(send_total, recv_total)); !s.ok()) return s;
    }
    return Check("AllToAllV",
                 MPI_Alltoallv(send, sc.data(), sd.data(), MPI_FLOAT, recv, rc.data(), rd.data(), MPI_FLOAT, comm_));
  }

  absl::Status Barrier() override { return Check("Barrier", MPI_Barrier(comm_)); }

  absl::StatusOr<std::unique_ptr<Communicator>> Split(int color, int key, const std::string& name) override {
    MPI_Comm sub;
    if (absl::Status s = Check("Split", MPI_Comm_split(comm_, color, key, &sub)); !s.ok()) return s;
    return std::unique_ptr<Communicator>(new MpiCommunicator(sub, name, true));
  }

 private:
  absl::Status Reduce(const char* op, void* data, int64_t count, MPI_Datatype type) {
    if (absl::Status s = CheckCount(op, count); !s.ok()) return s;
    return Check(op, MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(count), type, MPI_SUM, comm_));
  }
  absl::Status CheckCount(const char* op, int64_t count) const {
    if (count < 0 || count > std::numeric_limits<int>::max()) {
      return absl::InvalidArgumentError(absl::StrCat(op, " on ", name_, ": count ", count, " outside MPI's int range"));
    }
    return absl::OkStatus();
  }
  absl::Status Check(const char* op, int code) const {
    if (code == MPI_SUCCESS) return absl::OkStatus();
    char message[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, message, &length);
    return absl::InternalError(absl::StrCat(op, " on ", name_, " (rank ", rank_, " of ", size_,
                                            ") failed: ", std::string(message, length)));
  }

  MPI_Comm comm_;
  std::string name_;
  bool owned_;
  int rank_ = 0, size_ = 1;
};

void FinalizeMpi() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

}  // namespace

Communicator& MpiWorld() {
  static MpiCommunicator* world = [] {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      CHECK_EQ(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), MPI_SUCCESS) << "MPI_Init failed";
      std::atexit(FinalizeMpi);
    }
    return new MpiCommunicator(MPI_COMM_WORLD, "world", false);
  }();
  return *world;
}

}  // namespace onemodel::distributed
