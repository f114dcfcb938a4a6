// Pairwise Euclidean distance, the Laplace gate's logit: out[n, e] = ||x[n] - w[e]||_2.
#ifndef ONEMODEL_CORE_OPS_DISTANCE_H_
#define ONEMODEL_CORE_OPS_DISTANCE_H_

#include "core/tensor.h"

namespace onemodel::ops {

// x [N, D], w [E, D] -> [N, E]. Computed as |x|^2 + |w|^2 - 2 x.w (one GEMM); at distance 0 the gradient
// is taken as 0 (a subgradient).
Tensor PairwiseL2(const Tensor& x, const Tensor& w);

}  // namespace onemodel::ops

#endif  // ONEMODEL_CORE_OPS_DISTANCE_H_
