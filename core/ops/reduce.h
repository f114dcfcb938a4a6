// Reductions over one axis (negative axes count from the end), and over everything.
#ifndef ONEMODEL_CORE_OPS_REDUCE_H_
#define ONEMODEL_CORE_OPS_REDUCE_H_

#include "core/tensor.h"

namespace onemodel::ops {

Tensor Sum(const Tensor& x, int axis, bool keepdim = false);
Tensor Mean(const Tensor& x, int axis, bool keepdim = false);
// Gradient flows to the first maximal element of each slice.
Tensor Max(const Tensor& x, int axis, bool keepdim = false);
Tensor SumAll(const Tensor& x);   // scalar
Tensor MeanAll(const Tensor& x);  // scalar

}  // namespace onemodel::ops

#endif  // ONEMODEL_CORE_OPS_REDUCE_H_
