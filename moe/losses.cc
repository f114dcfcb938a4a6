#include "moe/losses.h"

#include "core/ops/ops.h"

namespace onemodel::moe {

Tensor SwitchLoadBalanceLoss(const Routing& r) {
  // Dispatch fractions count every routed assignment, before capacity, as in the Switch Transformer.
  std::vector<float> fraction(r.num_experts, 0.f);
  const std::vector<int64_t> experts = r.expert.ToIndices();
  for (int64_t e : experts) fraction[e] += 1.f;
  for (float& f : fraction) f /= std::max<int64_t>(1, static_cast<int64_t>(experts.size()));
  const Tensor mean_prob = ops::Mean(r.probs, 0);
  return ops::Scale(ops::SumAll(ops::Mul(mean_prob, Tensor::FromVector(fraction, {r.num_experts}).To(r.probs.device()))),
                    static_cast<float>(r.num_experts));
}

Tensor CoefficientOfVariationSquared(const Tensor& v) {
  const Tensor mean = ops::MeanAll(v);
  const Tensor centered = ops::Sub(v, mean);
  const Tensor variance = ops::MeanAll(ops::Mul(centered, centered));
  return ops::Div(variance, ops::AddScalar(ops::Mul(mean, mean), 1e-10f));
}

Tensor ImportanceLoss(const Routing& r) {
  const Tensor importance = ops::ScatterAddRows(ops::Reshape(r.gate, {-1, 1}), r.expert, r.num_experts);
  return CoefficientOfVariationSquared(importance);
}

Tensor LoadLoss(const Routing& r) {
  CHECK(r.load_estimate.defined()) << "LoadLoss needs the smooth load estimate (noisy top-k router, training)";
  return CoefficientOfVariationSquared(r.load_estimate);
}

Tensor ZLoss(const Routing& r) {
  // logsumexp = logits - log_softmax(logits), the same in every column; take the first.
  const Tensor lse = ops::Narrow(ops::Sub(r.logits, ops::LogSoftmax(r.logits)), 1, 0, 1);
  return ops::MeanAll(ops::Mul(lse, lse));
}

}  // namespace onemodel::moe
