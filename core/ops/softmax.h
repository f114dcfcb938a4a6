// Softmax and log-softmax over the last dim (max-subtracted, so large logits stay finite).
#ifndef ONEMODEL_CORE_OPS_SOFTMAX_H_
#define ONEMODEL_CORE_OPS_SOFTMAX_H_

#include "core/tensor.h"

namespace onemodel::ops {

Tensor Softmax(const Tensor& x);
Tensor LogSoftmax(const Tensor& x);

// Raw row kernels, shared with cross-entropy: out[j] = log softmax(in)[j] over n values.
void LogSoftmaxRow(const float* in, float* out, int64_t n);

}  // namespace onemodel::ops

#endif  // ONEMODEL_CORE_OPS_SOFTMAX_H_
