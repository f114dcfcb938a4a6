// Cross-entropy of logits [N, V] against class ids [N] (i64), averaged over the rows whose target is not
// `ignore_index`. With label smoothing e the target distribution is (1 - e) one-hot + e / V (as PyTorch).
// Logits on a GPU take targets on the host (checked there, then uploaded) or on the same GPU (read back to check).
#ifndef ONEMODEL_CORE_OPS_CROSS_ENTROPY_H_
#define ONEMODEL_CORE_OPS_CROSS_ENTROPY_H_

#include "core/tensor.h"

namespace onemodel::ops {

Tensor CrossEntropy(const Tensor& logits, const Tensor& targets, float label_smoothing = 0.f,
                    int64_t ignore_index = -100);

}  // namespace onemodel::ops

#endif  // ONEMODEL_CORE_OPS_CROSS_ENTROPY_H_
