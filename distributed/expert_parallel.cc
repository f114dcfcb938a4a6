#include "distributed/expert_parallel.h"

#include "core/ops/ops.h"
#include "distributed/collectives.h"
#include "glog/logging.h"

namespace onemodel::distributed {

Tensor ExpertParallel(Communicator& group, const Tensor& rows, const std::vector<int64_t>& rows_per_expert,
                      const LocalExperts& local_experts) {
  const int ranks = group.size();
  const int64_t experts = static_cast<int64_t>(rows_per_expert.size());
  CHECK(experts % ranks == 0) << "ExpertParallel: " << experts << " experts do not split over " << ranks << " ranks";
  const int64_t local = experts / ranks;
  // Per-expert counts first: rank s learns how many rows each rank sends to each of its local experts.
  std::vector<int64_t> incoming(experts);
  const absl::Status s = group.AllToAll(rows_per_expert.data(), incoming.data(), local);
  CHECK(s.ok()) << s;
  std::vector<int64_t> send_rows(ranks, 0), recv_rows(ranks, 0);
  for (int64_t e = 0; e < experts; ++e) {
    send_rows[e / local] += rows_per_expert[e];
    recv_rows[e / local] += incoming[e];  // incoming block e: source e / local
  }
  // Received rows come by source rank, each source's rows grouped by local expert; the experts want them
  // grouped by expert: permute (source, expert) blocks into (expert, source) order.
  // Both exchanges' row counts follow from the per-expert counts: no further count exchange.
  const Tensor received = AllToAllRows(group, rows, send_rows, recv_rows);
  std::vector<int64_t> block_start(experts, 0), per_local(local, 0);
  int64_t at = 0;
  for (int64_t b = 0; b < experts; ++b) {  // block b = source b / local, local expert b % local
    block_start[b] = at;
    at += incoming[b];
    per_local[b % local] += incoming[b];
  }
  std::vector<int64_t> order;  // expert-major position -> received row
  order.reserve(at);
  for (int64_t j = 0; j < local; ++j) {
    for (int src = 0; src < ranks; ++src) {
      const int64_t b = src * local + j;
      for (int64_t i = 0; i < incoming[b]; ++i) order.push_back(block_start[b] + i);
    }
  }
  std::vector<int64_t> inverse(order.size());
  for (size_t i = 0; i < order.size(); ++i) inverse[order[i]] = static_cast<int64_t>(i);
  const auto n = static_cast<int64_t>(order.size());
  const Tensor by_expert = ops::IndexSelect(received, Tensor::FromIndices(order, {n}));
  const Tensor out = local_experts(by_expert, per_local);
  const Tensor by_source = ops::IndexSelect(out, Tensor::FromIndices(inverse, {n}));
  // Back to the senders: each gets its rows' outputs in the order it sent them.
  return AllToAllRows(group, by_source, recv_rows, send_rows);
}

}  // namespace onemodel::distributed
