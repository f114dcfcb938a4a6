// Connectionist temporal classification (Graves et al. 2006): -log p(targets | logits), summed over every
// alignment of the targets to the frames (blanks between and around labels, repeats merged), by the
// forward-backward recursion in log space. Used as the auxiliary encoder loss of speech recognition (joint
// CTC-attention training, Kim et al. 2017).
#ifndef ONEMODEL_CORE_OPS_CTC_H_
#define ONEMODEL_CORE_OPS_CTC_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/tensor.h"

namespace onemodel::ops {

// logits [B, T, V] (softmax over V is taken here); targets[b]: label ids in [0, V), none equal to `blank`;
// input_lengths[b] in [0, T]: the frames of example b (the rest is padding and gets no gradient).
// Returns the SUM over examples of -log p(targets[b]) (a scalar; callers normalize). An example no alignment
// fits (too few frames for its labels and repeats) contributes 0 and no gradient, as PyTorch's zero_infinity.
// CUDA tensors are computed on the host (the recursion is sequential in time and small next to the logits).
Tensor CtcLoss(const Tensor& logits, const std::vector<std::vector<int>>& targets,
               const std::vector<int64_t>& input_lengths, int blank = 0);

// log(exp(a) + exp(b)), exact where either is -inf: the sum of probabilities in CTC's recursions (here and in
// model/ctc_prefix_score).
template <typename T>
T LogAdd(T a, T b) {
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  return std::max(a, b) + std::log1p(std::exp(-std::abs(a - b)));
}

}  // namespace onemodel::ops

#endif  // ONEMODEL_CORE_OPS_CTC_H_
