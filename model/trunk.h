// The MultiModel body (Kaiser et al. 2017 §2.2, DESIGN §5), shared by every task:
//   encoder: conv block -> self-attention -> MoE -> conv block, over the input modality's sequence;
//   I/O mixer: the (right-shifted) target sequence attends over the encoder, then a causal conv block;
//   decoder: causal self-attention -> attention over the encoder -> MoE -> causal conv block.
// Attention and MoE sit in pre-norm residual branches (x + f(LN(x))); conv blocks carry their own residual.
// Which MoE layer and router each MoE position uses comes from the config.
#ifndef ONEMODEL_MODEL_TRUNK_H_
#define ONEMODEL_MODEL_TRUNK_H_

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "configs/experiment.pb.h"
#include "core/module.h"
#include "model/attention.h"
#include "model/conv_block.h"
#include "moe/moe_layer.h"

namespace onemodel::model {

// Every bad value is an error naming its field under `prefix` ("model.dim", "model.encoder_moe.num_experts").
absl::Status ValidateTrunkConfig(const config::TrunkConfig& config, const std::string& prefix = "model");

// What one forward pass of a trunk part collects besides its output.
struct TrunkAux {
  std::vector<Tensor> aux_losses;           // one scalar per MoE layer run
  std::vector<moe::RoutingStats> routing;   // and its statistics
  void Add(moe::MoeOutput& out);
};

// Per-call context: training switches dropout and routing noise; step keys the random numbers.
struct RunContext {
  bool training = false;
  uint32_t step = 0;
  // The batch's first row within the whole batch when each rank runs a share of it: dropout then draws what one
  // process would for these rows.
  int64_t first_row = 0;
};

// A pre-norm residual around an MoE layer: x + MoE(LN(x)).
class MoeBlock : public Module {
 public:
  MoeBlock(const config::MoeConfig& config, int64_t dim, uint64_t seed, uint16_t layer,
           const moe::MoeParallel& parallel);
  // x + MoE(LN(x)). With a mask [B, S] (1 real, 0 padding) only the real positions are routed.
  Tensor Forward(const Tensor& x, const RunContext& run, TrunkAux* aux, const Tensor& mask = Tensor()) const;

 private:
  Tensor gamma_, beta_;
  std::unique_ptr<moe::AnyMoeLayer> moe_;
};

// A pre-norm residual around attention: x + Attention(LN(x), memory).
class AttentionBlock : public Module {
 public:
  AttentionBlock(int64_t dim, int64_t heads, uint64_t seed, uint16_t layer);
  Tensor Forward(const Tensor& x, const Tensor& memory, bool causal, const Tensor& key_mask) const;
  Tensor ForwardSelf(const Tensor& x, bool causal, const Tensor& key_mask) const;

 private:
  Tensor gamma_, beta_;
  Attention attention_;
};

class Encoder : public Module {
 public:
  Encoder(const config::TrunkConfig& config, uint64_t seed, uint16_t layer, const moe::MoeParallel& parallel = {});
  // x [B, S, d] (modality output), mask [B, S] (1 real, 0 padding; may be undefined) -> [B, S, d].
  Tensor Forward(const Tensor& x, const Tensor& mask, const RunContext& run, TrunkAux* aux) const;

 private:
  ConvBlock conv_in_;
  AttentionBlock attention_;
  MoeBlock moe_;
  ConvBlock conv_out_;
  Tensor gamma_, beta_;
};

class Mixer : public Module {
 public:
  Mixer(const config::TrunkConfig& config, uint64_t seed, uint16_t layer);
  // targets [B, T, d] (task token then shifted target embeddings) -> [B, T, d].
  Tensor Forward(const Tensor& targets, const Tensor& encoded, const Tensor& input_mask) const;

 private:
  AttentionBlock attention_;
  ConvBlock conv_;
};

class Decoder : public Module {
 public:
  Decoder(const config::TrunkConfig& config, uint64_t seed, uint16_t layer, const moe::MoeParallel& parallel = {});
  // target_mask [B, T] (1 at positions with a real target; may be undefined): which positions the MoE routes.
  Tensor Forward(const Tensor& mixed, const Tensor& encoded, const Tensor& input_mask, const RunContext& run,
                 TrunkAux* aux, const Tensor& target_mask = Tensor()) const;

 private:
  AttentionBlock self_attention_, encoder_attention_;
  MoeBlock moe_;
  ConvBlock conv_;
  Tensor gamma_, beta_;
};

}  // namespace onemodel::model

#endif  // ONEMODEL_MODEL_TRUNK_H_
