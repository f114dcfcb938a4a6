// CTC prefix scores (Watanabe et al. 2017, "Hybrid CTC/Attention Architecture for End-to-End Speech
// Recognition", Algorithm 2): the log-probability under a CTC output that the transcript begins with a prefix,
// extended one label at a time in O(positions) each. Joint CTC-attention decoding (model/decoding.h) weighs it
// with the attention decoder's score: a hypothesis that ends early, loops on a subword or skips audio the CTC
// output has aligned scores low there.
#ifndef ONEMODEL_MODEL_CTC_PREFIX_SCORE_H_
#define ONEMODEL_MODEL_CTC_PREFIX_SCORE_H_

#include <cstdint>
#include <vector>

namespace onemodel::model {

class CtcPrefixScorer {
 public:
  // The forward variables of one prefix: r_n[t] / r_b[t], the log-probability that positions 0..t emit the
  // prefix ending in its last label / in a blank.
  struct State {
    std::vector<float> r_n, r_b;
    float prefix = 0.f;  // log-probability of every transcript that begins with the prefix
    int last = -1;       // the prefix's last label (-1: empty)
  };

  // `log_probs`: [positions][vocab] log-softmax of one example's CTC output (positions >= 1), blank at `blank`.
  CtcPrefixScorer(std::vector<float> log_probs, int64_t positions, int64_t vocab, int blank);

  State Empty() const;
  // The state of prefix + label (label != blank).
  State Extend(const State& prefix, int label) const;
  // Log-probability that the transcript is exactly the prefix.
  float Whole(const State& prefix) const;
  int blank() const { return blank_; }

 private:
  float At(int64_t t, int label) const { return log_probs_[t * vocab_ + label]; }

  std::vector<float> log_probs_;
  int64_t positions_, vocab_;
  int blank_;
};

}  // namespace onemodel::model

#endif  // ONEMODEL_MODEL_CTC_PREFIX_SCORE_H_
