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
  double router_entropy = 0;       // mean over tokens of the entropy of the router's softmax (nats)
  double activation_ratio = 0;     // fraction of experts that received at least one token
  double dispatch_entropy = -1;    // H(label | expert), nats, weighted by expert load (Chen et al. 2022); -1: no labels
  std::string Summary() const;     // one line for progress output
};

// `labels` [T] i64 (clusters or classes of the tokens) may be undefined.
RoutingStats ComputeRoutingStats(const Routing& routing, const Tensor& labels = Tensor());

}  // namespace onemodel::moe

#endif  // ONEMODEL_MOE_ROUTING_STATS_H_
