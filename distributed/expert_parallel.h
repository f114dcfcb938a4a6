// The expert-parallel token exchange (GShard / DeepSpeed-MoE style): rows grouped by global expert on every rank
// go to the rank that holds their expert (expert e lives on rank e / (E / EP) of the expert group), run through
// that rank's experts, and come back in their original order. Differentiable end to end: the backward pass is
// the same exchange in reverse. Token order is deterministic (source rank, then the sender's order).
#ifndef ONEMODEL_DISTRIBUTED_EXPERT_PARALLEL_H_
#define ONEMODEL_DISTRIBUTED_EXPERT_PARALLEL_H_

#include <functional>
#include <vector>

#include "core/tensor.h"
#include "distributed/communicator.h"

namespace onemodel::distributed {

// Runs this rank's experts: rows [R, d] grouped by local expert (rows_per_local_expert[j] rows each) -> [R, d_out].
using LocalExperts = std::function<Tensor(const Tensor& rows, const std::vector<int64_t>& rows_per_local_expert)>;

// rows [A, d] grouped by global expert (rows_per_expert: E counts, E divisible by the group size) -> [A, d_out],
// row i being expert(row i) applied to row i, wherever that expert lives.
Tensor ExpertParallel(Communicator& group, const Tensor& rows, const std::vector<int64_t>& rows_per_expert,
                      const LocalExperts& local_experts);

}  // namespace onemodel::distributed

#endif  // ONEMODEL_DISTRIBUTED_EXPERT_PARALLEL_H_
