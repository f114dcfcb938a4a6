#include "distributed/collectives.h"

#include <cmath>
#include <cstring>
#include <numeric>

#include "core/autograd.h"
#include "core/ops/ops.h"
#include "core/optim.h"
#include "glog/logging.h"

namespace onemodel::distributed {
namespace {

// The tensor's floats as the communicator takes them: host memory for MPI, device memory for NCCL.
float* Floats(const Tensor& t) {
  CHECK(t.dtype() == DType::kF32) << "collectives move f32 tensors";
  return static_cast<float*>(t.raw_data());
}

void CheckPlacement(const Communicator& comm, const Tensor& t, const char* op) {
  CHECK_EQ(t.device().is_cpu(), !comm.device_buffers())
      << op << ": a tensor on " << t.device().ToString() << " but group " << comm.name() << " moves "
      << (comm.device_buffers() ? "device" : "host") << " memory (MPI: CPU tensors, NCCL: GPU tensors)";
}

// The exchange itself: rows per rank in, rows per rank out (counts in rows, `width` floats per row).
Tensor Exchange(Communicator& comm, const Tensor& rows, const std::vector<int64_t>& send_counts,
                const std::vector<int64_t>& recv_counts) {
  Shape shape = rows.shape();
  const int64_t width = rows.dim(0) > 0 ? rows.numel() / rows.dim(0) : NumElements({shape.begin() + 1, shape.end()});
  shape[0] = std::accumulate(recv_counts.begin(), recv_counts.end(), int64_t{0});
  Tensor out = Tensor::Empty(shape, DType::kF32, rows.device());
  std::vector<int64_t> send_floats, recv_floats;
  for (int64_t c : send_counts) send_floats.push_back(c * width);
  for (int64_t c : recv_counts) recv_floats.push_back(c * width);
  const absl::Status s = comm.AllToAllV(Floats(rows), send_floats, Floats(out), recv_floats);
  CHECK(s.ok()) << s;
  return out;
}

}  // namespace

Tensor AllToAllRows(Communicator& comm, const Tensor& rows, const std::vector<int64_t>& send_counts,
                    std::vector<int64_t>* recv_counts_out) {
  CHECK_EQ(static_cast<int>(send_counts.size()), comm.size()) << "AllToAllRows: one count per rank of " << comm.name();
  std::vector<int64_t> recv_counts(comm.size());
  const absl::Status s = comm.AllToAll(send_counts.data(), recv_counts.data(), 1);
  CHECK(s.ok()) << s;
  if (recv_counts_out != nullptr) *recv_counts_out = recv_counts;
  return AllToAllRows(comm, rows, send_counts, recv_counts);
}

Tensor AllToAllRows(Communicator& comm, const Tensor& rows, const std::vector<int64_t>& send_counts,
                    const std::vector<int64_t>& recv_counts) {
  CHECK(rows.dtype() == DType::kF32 && rows.ndim() >= 1)
      << "AllToAllRows: needs f32 rows [N, ...], got " << ShapeToString(rows.shape());
  CheckPlacement(comm, rows, "AllToAllRows");
  CHECK_EQ(static_cast<int>(send_counts.size()), comm.size()) << "AllToAllRows: one count per rank of " << comm.name();
  CHECK_EQ(static_cast<int>(recv_counts.size()), comm.size()) << "AllToAllRows: one count per rank of " << comm.name();
  CHECK_EQ(std::accumulate(send_counts.begin(), send_counts.end(), int64_t{0}), rows.dim(0))
      << "AllToAllRows: send counts must add up to the rows";
  Tensor out = Exchange(comm, rows, send_counts, recv_counts);
  Communicator* c = &comm;
  return Record(out, "AllToAllRows", {rows}, [c, send_counts, recv_counts](const Tensor& g, const Tensor&) {
    // Every row goes back where it came from: the same exchange with the counts swapped.
    return std::vector<Tensor>{Exchange(*c, g, recv_counts, send_counts)};
  });
}

Tensor AllReduceSum(Communicator& comm, const Tensor& x) {
  CheckPlacement(comm, x, "AllReduceSum");
  Tensor out = x.Clone();
  const absl::Status s = comm.AllReduceSum(Floats(out), out.numel());
  CHECK(s.ok()) << s;
  Communicator* c = &comm;
  return Record(out, "AllReduceSum", {x}, [c](const Tensor& g, const Tensor&) {
    // d(sum over ranks of x_r)/d x_q reaches x_q from every rank's loss: the gradients add up over ranks.
    Tensor gx = g.Clone();
    const absl::Status s = c->AllReduceSum(Floats(gx), gx.numel());
    CHECK(s.ok()) << s;
    return std::vector<Tensor>{gx};
  });
}

absl::Status AverageGradients(Communicator& comm, const NamedTensors& params, int64_t bucket_bytes) {
  if (comm.size() == 1) return absl::OkStatus();
  const float scale = 1.f / comm.size();
  std::vector<Tensor> members;
  int64_t bucket_floats = 0;
  // One all-reduce per bucket: the gradients packed into one flat tensor on their device, summed, scaled back.
  auto flush = [&]() -> absl::Status {
    if (members.empty()) return absl::OkStatus();
    Tensor flat = Tensor::Empty({bucket_floats}, DType::kF32, members[0].grad().device());
    int64_t at = 0;
    for (const Tensor& p : members) {
      flat.Narrow(at, at + p.numel()).CopyFrom(p.grad().View({p.numel()}));
      at += p.numel();
    }
    if (absl::Status s = comm.AllReduceSum(Floats(flat), bucket_floats); !s.ok()) return s;
    const Tensor mean = ops::Scale(flat, scale);
    at = 0;
    for (const Tensor& p : members) {
      p.grad().CopyFrom(mean.Narrow(at, at + p.numel()).View(p.shape()));
      at += p.numel();
    }
    members.clear();
    bucket_floats = 0;
    return absl::OkStatus();
  };
  // Which parameters have a gradient on any rank: those take part (zeros where missing); a parameter no rank
  // touched this step (a task nobody sampled) keeps no gradient, so optimizers skip it as they would in one process.
  std::vector<int64_t> used(params.size());
  for (size_t i = 0; i < params.size(); ++i) used[i] = params[i].second.grad().defined() ? 1 : 0;
  if (absl::Status s = comm.AllReduceSum(used.data(), static_cast<int64_t>(used.size())); !s.ok()) return s;
  for (size_t i = 0; i < params.size(); ++i) {
    if (used[i] == 0) continue;
    Tensor p = params[i].second;
    if (!p.grad().defined()) p.AccumulateGrad(Tensor::Zeros(p.shape(), DType::kF32, p.device()));
    CheckPlacement(comm, p.grad(), params[i].first.c_str());
    if (!members.empty() && !(members[0].device() == p.device())) {
      if (absl::Status s = flush(); !s.ok()) return s;
    }
    members.push_back(p);
    bucket_floats += p.numel();
    if (bucket_floats * static_cast<int64_t>(sizeof(float)) >= bucket_bytes) {
      if (absl::Status s = flush(); !s.ok()) return s;
    }
  }
  return flush();
}

bool IsExpertParameter(const std::string& name) {
  return name.rfind("experts.", 0) == 0 || name.find(".experts.") != std::string::npos;
}

absl::Status SyncGradients(const ProcessGroups& groups, const NamedTensors& params) {
  NamedTensors dense, expert;
  for (const auto& p : params) (IsExpertParameter(p.first) ? expert : dense).push_back(p);
  if (absl::Status s = AverageGradients(*groups.world, dense); !s.ok()) return s;
  const float scale = 1.f / groups.expert_parallel;
  for (auto& [name, param] : expert) {
    Tensor p = param;
    if (!p.grad().defined()) continue;  // AverageGradients below decides over all ranks
    p.grad().CopyFrom(ops::Scale(p.grad(), scale));
  }
  return AverageGradients(*groups.data, expert);
}

absl::StatusOr<float> ClipGradNorm(const ProcessGroups& groups, const NamedTensors& params, float max_norm) {
  std::vector<Tensor> dense, expert, all;
  for (const auto& [name, p] : params) {
    (IsExpertParameter(name) ? expert : dense).push_back(p);
    all.push_back(p);
  }
  double expert_squares = GradSquaredSum(expert);
  if (absl::Status s = groups.expert->AllReduceSum(&expert_squares, 1); !s.ok()) return s;
  const float norm = static_cast<float>(std::sqrt(GradSquaredSum(dense) + expert_squares));
  ClipGradsToNorm(all, norm, max_norm);
  return norm;
}

}  // namespace onemodel::distributed
