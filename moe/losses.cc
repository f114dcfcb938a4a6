#include "moe/losses.h"

#include "core/ops/ops.h"
#include "distributed/collectives.h"

namespace onemodel::moe {
namespace {

// The sum of `t` over the ranks of `tokens` (differentiable), or `t` itself in one process.
Tensor OverRanks(const Tensor& t, distributed::Communicator* tokens) {
  return tokens == nullptr ? t : distributed::AllReduceSum(*tokens, t);
}

int64_t CountOverRanks(int64_t n, distributed::Communicator* tokens) {
  if (tokens != nullptr) CHECK(tokens->AllReduceSum(&n, 1).ok()) << "aux loss: token count all-reduce failed";
  return n;
}

}  // namespace

Tensor SwitchLoadBalanceLoss(const Routing& r, distributed::Communicator* tokens) {
  // Dispatch fractions count every routed assignment, before capacity, as in the Switch Transformer.
  std::vector<int64_t> counts(r.num_experts + 1, 0);
  const std::vector<int64_t> experts = r.expert.ToIndices();
  for (int64_t e : experts) ++counts[e];
  counts[r.num_experts] = static_cast<int64_t>(experts.size());
  if (tokens != nullptr) CHECK(tokens->AllReduceSum(counts.data(), r.num_experts + 1).ok()) << "aux loss: all-reduce";
  std::vector<float> fraction(r.num_experts);
  for (int64_t e = 0; e < r.num_experts; ++e) {
    fraction[e] = static_cast<float>(counts[e]) / std::max<int64_t>(1, counts[r.num_experts]);
  }
  const Tensor mean_prob =
      tokens == nullptr ? ops::Mean(r.probs, 0)
                        : ops::Scale(OverRanks(ops::Sum(r.probs, 0), tokens),
                                     1.f / std::max<int64_t>(1, CountOverRanks(r.probs.dim(0), tokens)));
  return ops::Scale(ops::SumAll(ops::Mul(mean_prob, Tensor::FromVector(fraction, {r.num_experts}).To(r.probs.device()))),
                    static_cast<float>(r.num_experts));
}

Tensor CoefficientOfVariationSquared(const Tensor& v) {
  const Tensor mean = ops::MeanAll(v);
  const Tensor centered = ops::Sub(v, mean);
  const Tensor variance = ops::MeanAll(ops::Mul(centered, centered));
  return ops::Div(variance, ops::AddScalar(ops::Mul(mean, mean), 1e-10f));
}

Tensor ImportanceLoss(const Routing& r, distributed::Communicator* tokens) {
  const Tensor importance =
      OverRanks(ops::ScatterAddRows(ops::Reshape(r.gate, {-1, 1}), r.expert, r.num_experts), tokens);
  return CoefficientOfVariationSquared(importance);
}

Tensor LoadLoss(const Routing& r, distributed::Communicator* tokens) {
  CHECK(r.load_estimate.defined()) << "LoadLoss needs the smooth load estimate (noisy top-k router, training)";
  return CoefficientOfVariationSquared(OverRanks(r.load_estimate, tokens));
}

Tensor ZLoss(const Routing& r, distributed::Communicator* tokens) {
  // logsumexp = logits - log_softmax(logits), the same in every column; take the first.
  const Tensor lse = ops::Narrow(ops::Sub(r.logits, ops::LogSoftmax(r.logits)), 1, 0, 1);
  if (tokens == nullptr) return ops::MeanAll(ops::Mul(lse, lse));
  return ops::Scale(OverRanks(ops::SumAll(ops::Mul(lse, lse)), tokens),
                    1.f / std::max<int64_t>(1, CountOverRanks(r.logits.dim(0), tokens)));
}

}  // namespace onemodel::moe
