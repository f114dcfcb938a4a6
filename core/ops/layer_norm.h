// Layer normalization over the last dim: y = (x - mean) / sqrt(var + eps) * gamma + beta.
#ifndef ONEMODEL_CORE_OPS_LAYER_NORM_H_
#define ONEMODEL_CORE_OPS_LAYER_NORM_H_

#include "core/tensor.h"

namespace onemodel::ops {

Tensor LayerNorm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps = 1e-5f);

}  // namespace onemodel::ops

#endif  // ONEMODEL_CORE_OPS_LAYER_NORM_H_
