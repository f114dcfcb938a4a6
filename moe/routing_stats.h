// Routing statistics of one layer and step (DESIGN §4), for progress lines, metrics and analysis.
#ifndef ONEMODEL_MOE_ROUTING_STATS_H_
#define ONEMODEL_MOE_ROUTING_STATS_H_

#include <string>
#include <vector>

#include "moe/routing.h"

namespace onemodel::moe {

struct RoutingStats {
  std::vector<double> load;        // fraction of kept assignments per expert (adds up to 1)
  double drop_rate = 0;            // dropped / routed assignments
  double load_cv = 0;              // std / mean of per-expert kept counts
  double activation_ratio = 0;     // fraction of experts that received at least one token
  double dispatch_entropy = -1;    // H(label | expert), nats, weighted by expert load (Chen et al. 2022); -1: no labels
  std::string Summary() const;     // one line for progress output
  // Mean over tokens of the entropy of the router's softmax (nats; 0 without probabilities). Summed where the
  // probabilities are and read only when asked for: reading it back from a GPU waits for the queued work.
  double RouterEntropy() const;
  Tensor router_entropy_sum;       // over tokens, on the probabilities' device
  int64_t num_tokens = 0;
};

// `labels` [T] i64 (clusters or classes of the tokens) may be undefined.
RoutingStats ComputeRoutingStats(const Routing& routing, const Tensor& labels = Tensor());

}  // namespace onemodel::moe

#endif  // ONEMODEL_MOE_ROUTING_STATS_H_
