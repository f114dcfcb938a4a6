// Differentiable collectives on CPU tensors, recorded by autograd like any op: the expert-parallel token exchange
// (all-to-all of rows; its backward is the reverse exchange) and the sum over ranks (its backward sums the
// gradients over ranks too). A failed collective is fatal here (mid-step there is nothing sound to return to);
// the communicator's error names the operation and the rank.
#ifndef ONEMODEL_DISTRIBUTED_COLLECTIVES_H_
#define ONEMODEL_DISTRIBUTED_COLLECTIVES_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/module.h"
#include "core/tensor.h"
#include "distributed/communicator.h"
#include "distributed/process_groups.h"

namespace onemodel::distributed {

// rows [N, ...] f32, send_counts[r] rows for rank r in contiguous blocks (rank order) -> the rows every rank sent
// to this one, in rank order: [sum of recv_counts, ...]. The counts are exchanged first; `recv_counts` (optional)
// gets them.
Tensor AllToAllRows(Communicator& comm, const Tensor& rows, const std::vector<int64_t>& send_counts,
                    std::vector<int64_t>* recv_counts = nullptr);
// The same when the receive counts are known already (no count exchange): recv_counts[r] rows come from rank r.
Tensor AllToAllRows(Communicator& comm, const Tensor& rows, const std::vector<int64_t>& send_counts,
                    const std::vector<int64_t>& recv_counts);

// The element-wise sum of `x` over the ranks (same shape everywhere).
Tensor AllReduceSum(Communicator& comm, const Tensor& x);

// Data-parallel gradient sync: every parameter's gradient becomes its mean over the ranks of `comm`. Gradients are
// packed into buckets of about `bucket_bytes` (one all-reduce each). A parameter with a gradient on some ranks takes
// part with zeros on the others; one with a gradient on none stays without one (optimizers then skip it, as one
// process would).
absl::Status AverageGradients(Communicator& comm, const NamedTensors& params, int64_t bucket_bytes = 4 << 20);

// Expert + data parallel gradient sync, for a loss that is each rank's mean over its own tokens. Dense parameters
// (replicated everywhere) are averaged over the world. Expert parameters (sharded over the expert group, replicated
// over the data group) already hold the sum of the EP ranks' contributions (the all-to-all's backward brought
// them): they are divided by EP and averaged over the data group. Expert parameters are the routed experts' weights
// (names with an "experts" component).
absl::Status SyncGradients(const ProcessGroups& groups, const NamedTensors& params);
bool IsExpertParameter(const std::string& name);

// Gradient-norm clipping over the whole (sharded) model, after SyncGradients: dense gradients are the same on every
// rank, expert gradients are this rank's shard, so their squares are summed over the expert group. Scales every
// gradient as ClipGradNorm on one process would; returns the norm before clipping.
absl::StatusOr<float> ClipGradNorm(const ProcessGroups& groups, const NamedTensors& params, float max_norm);

}  // namespace onemodel::distributed

#endif  // ONEMODEL_DISTRIBUTED_COLLECTIVES_H_
