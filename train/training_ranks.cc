#include "train/training_ranks.h"

#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"
#include "core/optim.h"
#include "distributed/collectives.h"

namespace onemodel {
namespace {

absl::Status Bad(const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("config field ", field, ": ", why));
}

absl::Status CheckMoeSplits(const config::MoeConfig& moe, const std::string& field, int ranks, int expert_parallel) {
  if (moe.layer() == config::MoeConfig::HIERARCHICAL) {
    return Bad(field + ".layer", absl::StrCat("HIERARCHICAL does not train over a sharded batch yet (", ranks,
                                              " ranks); use MOE or MH_MOE, or one process"));
  }
  if (moe.router().kind() == config::RouterConfig::EXPERT_CHOICE) {
    return Bad(field + ".router.kind", "EXPERT_CHOICE picks tokens from the whole batch: not over several ranks yet");
  }
  if (moe.num_experts() % expert_parallel != 0) {
    return Bad(field + ".num_experts", absl::StrCat(moe.num_experts(), " experts do not split over ", expert_parallel,
                                                    " expert-parallel ranks (distributed.expert_parallel)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TrainingRanks> TrainingRanks::Make(const config::Experiment& config, distributed::Communicator* world) {
  TrainingRanks ranks;
  if (world == nullptr || world->size() == 1) return ranks;
  const int n = world->size();
  const int ep = config.distributed().expert_parallel() == 0 ? n : config.distributed().expert_parallel();
  if (config.distributed().timeout_seconds() <= 0) return Bad("distributed.timeout_seconds", "must be > 0");
  absl::Status s = CheckMoeSplits(config.model().encoder_moe(), "model.encoder_moe", n, ep);
  if (s.ok()) s = CheckMoeSplits(config.model().decoder_moe(), "model.decoder_moe", n, ep);
  if (!s.ok()) return s;
  for (int i = 0; i < config.tasks_size(); ++i) {
    if (config.tasks(i).batch_size() < n) {
      return Bad(absl::StrCat("tasks[", i, "].batch_size"),
                 absl::StrCat(config.tasks(i).batch_size(), " rows cannot be shared by ", n, " ranks"));
    }
  }
  absl::StatusOr<distributed::ProcessGroups> groups = distributed::MakeProcessGroups(*world, ep);
  if (!groups.ok()) return groups.status();
  ranks.world_ = world;
  ranks.groups_ = *std::move(groups);
  return ranks;
}

moe::MoeParallel TrainingRanks::MoeParallel() const {
  if (!groups_) return {};
  return {groups_->expert_parallel > 1 ? groups_->expert.get() : nullptr, world_};
}

absl::Status TrainingRanks::Sum(double* values, int64_t count) const {
  return world_ == nullptr ? absl::OkStatus() : world_->AllReduceSum(values, count);
}

absl::Status TrainingRanks::SyncAndClip(const NamedTensors& params, float clip_norm) const {
  if (!groups_) {
    if (clip_norm > 0) {
      std::vector<Tensor> tensors;
      for (const auto& p : params) tensors.push_back(p.second);
      ClipGradNorm(tensors, clip_norm);
    }
    return absl::OkStatus();
  }
  if (absl::Status s = distributed::SyncGradients(*groups_, params); !s.ok()) return s;
  if (clip_norm <= 0) return absl::OkStatus();
  return distributed::ClipGradNorm(*groups_, params, clip_norm).status();
}

absl::Status TrainingRanks::GatherOnRankZero(const NamedTensors& params, const NamedTensors& full) const {
  if (!groups_) return absl::OkStatus();  // one process: its model is whole
  std::map<std::string, Tensor> into;
  for (const auto& [name, t] : full) into[name] = t;
  for (const auto& [name, t] : params) {
    const bool expert = distributed::IsExpertParameter(name);
    if (rank() == 0) {
      auto it = into.find(name);
      if (it == into.end()) return absl::InternalError(absl::StrCat("gathering the model: no '", name, "' to fill"));
      if (!expert) {
        it->second.CopyFrom(t);
        continue;
      }
    }
    // Experts of rank 0's expert group (data shard 0): each places its slice, the sum assembles them all.
    if (!expert || groups_->data_rank() != 0) continue;
    const int64_t local = t.dim(0), per_expert = t.numel() / local;
    Shape shape = t.shape();
    shape[0] = local * groups_->expert_parallel;
    Tensor whole = Tensor::Zeros(shape);
    std::memcpy(whole.data<float>() + expert_shard() * local * per_expert, t.data<float>(), t.nbytes());
    if (absl::Status s = groups_->expert->AllReduceSum(whole.data<float>(), whole.numel()); !s.ok()) return s;
    if (rank() == 0) into.at(name).CopyFrom(whole);
  }
  return absl::OkStatus();
}

absl::Status TrainingRanks::Barrier() const { return world_ == nullptr ? absl::OkStatus() : world_->Barrier(); }

}  // namespace onemodel
