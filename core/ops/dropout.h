// Inverted dropout: in training each element is kept with probability 1 - p and scaled by 1 / (1 - p);
// the mask is drawn from the counter-based RNG, so it is reproducible on any device and rank count.
#ifndef ONEMODEL_CORE_OPS_DROPOUT_H_
#define ONEMODEL_CORE_OPS_DROPOUT_H_

#include "core/rng.h"
#include "core/tensor.h"

namespace onemodel::ops {

// Element i uses stream index offset + i of `key`. Identity when !training or p == 0.
Tensor Dropout(const Tensor& x, float p, const RngKey& key, bool training, uint64_t offset = 0);

}  // namespace onemodel::ops

#endif  // ONEMODEL_CORE_OPS_DROPOUT_H_
