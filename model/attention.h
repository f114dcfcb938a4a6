// Multi-head dot-product attention (Vaswani et al.), the attention block of the MultiModel trunk.
#ifndef ONEMODEL_MODEL_ATTENTION_H_
#define ONEMODEL_MODEL_ATTENTION_H_

#include <cstdint>

#include "core/module.h"
#include "core/tensor.h"

namespace onemodel::model {

// query [B, Tq, d] attends over memory [B, Tk, d] (memory = query for self-attention) with projections
// wq, wk, wv, wo [d, d] and `heads` heads of d / heads: softmax(Q K^T / sqrt(d/h)) V per head, heads
// concatenated, then wo. With `causal`, query position i sees memory positions <= i (Tq == Tk).
// `key_mask` [B, Tk] (1 keep, 0 padding) may be undefined.
Tensor MultiHeadAttention(const Tensor& query, const Tensor& memory, const Tensor& wq, const Tensor& wk,
                          const Tensor& wv, const Tensor& wo, int64_t heads, bool causal,
                          const Tensor& key_mask = Tensor());

// The sinusoidal timing signal [T, d]: sin(t / 10000^(2i/d)) in the first half of the channels, cos in
// the second (tensor2tensor's get_timing_signal_1d).
Tensor TimingSignal(int64_t length, int64_t dim);

// A self- or encoder-decoder attention step with its own projections.
class Attention : public Module {
 public:
  Attention(int64_t dim, int64_t heads, uint64_t seed, uint16_t layer);
  Tensor Forward(const Tensor& query, const Tensor& memory, bool causal, const Tensor& key_mask = Tensor()) const;

  Tensor wq, wk, wv, wo;

 private:
  int64_t heads_;
};

}  // namespace onemodel::model

#endif  // ONEMODEL_MODEL_ATTENTION_H_
