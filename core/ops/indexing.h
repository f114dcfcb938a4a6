// Row gathers and scatters (the MoE dispatcher's permutations), per-row gathers, top-k and embeddings.
// Index tensors are i64; an index out of range is a fatal error naming the op, position and bound.
#ifndef ONEMODEL_CORE_OPS_INDEXING_H_
#define ONEMODEL_CORE_OPS_INDEXING_H_

#include "core/tensor.h"

namespace onemodel::ops {

// out[i] = x[index[i]] for x [N, ...] and index [M] -> [M, ...].
Tensor IndexSelect(const Tensor& x, const Tensor& index);
// out[index[i]] += src[i] for src [M, ...] and index [M] -> [num_rows, ...].
Tensor ScatterAddRows(const Tensor& src, const Tensor& index, int64_t num_rows);
// out[index[i]] += weight[i] * src[i] for src [M, ...], weight [M] and index [M] -> [num_rows, ...]: the MoE
// combine step in one pass, without the weighted [M, ...] temporary. Differentiable in src and weight.
Tensor WeightedScatterAddRows(const Tensor& src, const Tensor& weight, const Tensor& index, int64_t num_rows);
// out[..., j] = x[..., index[..., j]] for x [..., K] and index [..., k] -> [..., k].
Tensor GatherLastDim(const Tensor& x, const Tensor& index);

struct TopKResult {
  Tensor values;   // [..., k], descending; differentiable (gradient flows to the chosen positions)
  Tensor indices;  // [..., k], i64; ties go to the lower index
};
TopKResult TopK(const Tensor& x, int64_t k);

// Rows of table [V, D] for ids of any shape -> [ids..., D].
Tensor Embedding(const Tensor& table, const Tensor& ids);

}  // namespace onemodel::ops

#endif  // ONEMODEL_CORE_OPS_INDEXING_H_
