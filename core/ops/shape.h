// Shape ops recorded by autograd: reshape and leading-dim slices are views; the rest copy.
#ifndef ONEMODEL_CORE_OPS_SHAPE_H_
#define ONEMODEL_CORE_OPS_SHAPE_H_

#include <vector>

#include "core/tensor.h"

namespace onemodel::ops {

Tensor Reshape(const Tensor& x, const Shape& shape);      // view; one dim may be -1
Tensor Slice(const Tensor& x, int64_t begin, int64_t end);  // rows [begin, end) of the leading dim; view
// Elements [begin, end) along `axis` (a copy unless axis is the leading one).
Tensor Narrow(const Tensor& x, int axis, int64_t begin, int64_t end);
Tensor Concat(const std::vector<Tensor>& xs, int axis);
std::vector<Tensor> Split(const Tensor& x, const std::vector<int64_t>& sizes, int axis);
Tensor TransposeLast2(const Tensor& x);  // [..., A, B] -> [..., B, A]
// [A, B, C, D] -> [A, C, B, D]: attention's heads moved ahead of time ([B, T, H, dh] -> [B, H, T, dh]) and back;
// rows of D floats keep their order, so on the CPU it is one copy per row.
Tensor SwapAxes12(const Tensor& x);

}  // namespace onemodel::ops

#endif  // ONEMODEL_CORE_OPS_SHAPE_H_
