// Expert networks. FfnExperts holds all E experts' weights in [E, ...] tensors and runs them as one grouped
// GEMM over the dispatcher's contiguous blocks. Ffn is the same network, dense (the shared expert).
#ifndef ONEMODEL_MOE_EXPERTS_H_
#define ONEMODEL_MOE_EXPERTS_H_

#include <optional>
#include <vector>

#include "configs/experiment.pb.h"
#include "core/module.h"
#include "core/ops/unary_math.h"

namespace onemodel::moe {

UnaryKind ActivationKind(config::MoeConfig::Activation activation);

class FfnExperts : public Module {
 public:
  // d -> hidden -> d per expert, no biases; swiglu: act(x W_gate) * (x W_in). An expert-parallel shard holds
  // `num_experts` experts from global expert `first_expert` on, initialized as those experts of the whole layer.
  FfnExperts(int64_t num_experts, int64_t dim, int64_t hidden, UnaryKind activation, bool swiglu, uint64_t seed,
             uint16_t layer, int64_t first_expert = 0);
  // rows [A, d] grouped by expert (rows_per_expert[e] rows each) -> [A, d].
  Tensor Forward(const Tensor& rows, const std::vector<int64_t>& rows_per_expert) const;

  Tensor w_in, w_gate, w_out;

 private:
  UnaryKind activation_;
};

// Patch-convolution experts (Chen et al. 2022): a token is P patches of patch_dim; expert e has `filters`
// filters per output (class), applied with kernel = stride = patch_dim; output o of a token is
// sum over patches p and filters j of act(<w_e,o,j, x_p>). No activation (nullopt) gives linear experts.
class PatchConvExperts : public Module {
 public:
  // Weights start uniform in +-init_scale / sqrt(patch_dim).
  PatchConvExperts(int64_t num_experts, int64_t patch_dim, int64_t outputs, int64_t filters,
                   std::optional<UnaryKind> activation, float init_scale, uint64_t seed, uint16_t layer);
  // rows [A, P * patch_dim] grouped by expert -> [A, outputs].
  Tensor Forward(const Tensor& rows, const std::vector<int64_t>& rows_per_expert) const;

  Tensor weight;  // [E, patch_dim, outputs * filters]

 private:
  int64_t outputs_, filters_;
  std::optional<UnaryKind> activation_;
};

class Ffn : public Module {
 public:
  Ffn(int64_t dim, int64_t hidden, UnaryKind activation, bool swiglu, uint64_t seed, uint16_t layer);
  Tensor Forward(const Tensor& x) const;  // [..., d] -> [..., d]

  Tensor w_in, w_gate, w_out;

 private:
  UnaryKind activation_;
};

}  // namespace onemodel::moe

#endif  // ONEMODEL_MOE_EXPERTS_H_
