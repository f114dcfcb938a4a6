#include "moe/routing_stats.h"

#include <cmath>
#include <map>

#include "absl/strings/str_format.h"
#include "core/autograd.h"
#include "core/ops/ops.h"

namespace onemodel::moe {

RoutingStats ComputeRoutingStats(const Routing& r, const Tensor& labels) {
  RoutingStats s;
  const std::vector<int64_t> experts = r.expert.ToIndices(), tokens = r.token.ToIndices();
  const int64_t e = r.num_experts;
  std::vector<double> counts(e, 0.0);
  for (int64_t x : experts) counts[x] += 1;
  const double kept = static_cast<double>(experts.size());
  s.load.resize(e);
  double mean = kept / e, var = 0;
  int active = 0;
  for (int64_t i = 0; i < e; ++i) {
    s.load[i] = kept > 0 ? counts[i] / kept : 0;
    var += (counts[i] - mean) * (counts[i] - mean) / e;
    active += counts[i] > 0;
  }
  s.load_cv = mean > 0 ? std::sqrt(var) / mean : 0;
  s.activation_ratio = static_cast<double>(active) / e;
  s.drop_rate = r.routed > 0 ? 1.0 - kept / r.routed : 0;
  if (r.probs.defined() && r.num_tokens > 0) {
    NoGradScope no_grad;
    const Tensor p = r.probs.Detach();
    // The 1e-30 makes 0 log 0 = 0.
    s.router_entropy_sum = ops::Scale(ops::SumAll(ops::Mul(p, ops::Log(ops::AddScalar(p, 1e-30f)))), -1.f);
    s.num_tokens = r.num_tokens;
  }
  if (labels.defined()) {
    const std::vector<int64_t> label = labels.ToIndices();
    std::vector<std::map<int64_t, double>> per_expert(e);
    for (size_t i = 0; i < experts.size(); ++i) per_expert[experts[i]][label[tokens[i]]] += 1;
    double h = 0;
    for (int64_t i = 0; i < e; ++i) {
      for (const auto& [_, n] : per_expert[i]) h -= (n / kept) * std::log(n / counts[i]);
    }
    s.dispatch_entropy = h;
  }
  return s;
}

double RoutingStats::RouterEntropy() const {
  return router_entropy_sum.defined() ? router_entropy_sum.item() / num_tokens : 0.0;
}

std::string RoutingStats::Summary() const {
  double max_load = 0;
  for (double l : load) max_load = std::max(max_load, l);
  std::string out = absl::StrFormat("load cv %.2f max %.2f drop %.3f entropy %.2f active %.2f", load_cv, max_load,
                                    drop_rate, RouterEntropy(), activation_ratio);
  if (dispatch_entropy >= 0) out += absl::StrFormat(" dispatch_entropy %.3f", dispatch_entropy);
  return out;
}

}  // namespace onemodel::moe
