#include "train/optimizer_config.h"

#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace onemodel {
namespace {

absl::Status Invalid(const char* field, const std::string& rule, double value) {
  return absl::InvalidArgumentError(absl::StrCat("config field ", field, " ", rule, ", got ", value));
}

// The first components of the parameters' names ("encoder", "image", ...), for an error message.
std::set<std::string> ModelParts(const NamedTensors& params) {
  std::set<std::string> parts;
  for (const auto& [name, _] : params) parts.insert(name.substr(0, name.find('.')));
  return parts;
}

// Each parameter's decay under optimizer.decay_groups (empty when there are none: weight_decay for all).
absl::StatusOr<std::vector<float>> WeightDecays(const config::OptimizerConfig& c, const NamedTensors& params) {
  if (c.decay_groups().empty()) return std::vector<float>();
  std::vector<float> decays(params.size(), c.weight_decay());
  std::vector<bool> grouped(params.size(), false);
  for (int g = 0; g < c.decay_groups_size(); ++g) {
    const config::DecayGroup& group = c.decay_groups(g);
    const std::string field = absl::StrCat("optimizer.decay_groups[", g, "]");
    if (group.prefix().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("config field ", field, ".prefix is empty"));
    }
    if (group.weight_decay() < 0) {
      return Invalid((field + ".weight_decay").c_str(), "must be >= 0", group.weight_decay());
    }
    bool names_one = false;
    for (size_t i = 0; i < params.size(); ++i) {
      if (!absl::StartsWith(params[i].first, group.prefix())) continue;
      names_one = true;
      if (grouped[i]) continue;  // an earlier group's
      grouped[i] = true;
      decays[i] = group.weight_decay();
    }
    if (!names_one) {
      return absl::InvalidArgumentError(absl::StrCat("config field ", field, ".prefix \"", group.prefix(),
                                                     "\" begins no parameter's name (the model's parts: ",
                                                     absl::StrJoin(ModelParts(params), ", "), ")"));
    }
  }
  return decays;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Optimizer>> MakeOptimizer(const config::OptimizerConfig& c, NamedTensors params) {
  if (!(c.lr() > 0)) return Invalid("optimizer.lr", "must be > 0", c.lr());
  if (c.weight_decay() < 0) return Invalid("optimizer.weight_decay", "must be >= 0", c.weight_decay());
  absl::StatusOr<std::vector<float>> decays = WeightDecays(c, params);
  if (!decays.ok()) return decays.status();
  if (c.clip_norm() < 0) return Invalid("optimizer.clip_norm", "must be >= 0 (0 disables clipping)", c.clip_norm());
  switch (c.kind()) {
    case config::OptimizerConfig::SGD:
      if (c.momentum() < 0 || c.momentum() >= 1) return Invalid("optimizer.momentum", "must be in [0, 1)", c.momentum());
      if (c.nesterov() && c.momentum() == 0) {
        return absl::InvalidArgumentError("config field optimizer.nesterov needs optimizer.momentum > 0");
      }
      return std::make_unique<Sgd>(std::move(params), SgdOptions{c.momentum(), c.nesterov(), c.weight_decay()},
                                   *std::move(decays));
    case config::OptimizerConfig::ADAM:
    case config::OptimizerConfig::ADAMW: {
      if (c.beta1() < 0 || c.beta1() >= 1) return Invalid("optimizer.beta1", "must be in [0, 1)", c.beta1());
      if (c.beta2() < 0 || c.beta2() >= 1) return Invalid("optimizer.beta2", "must be in [0, 1)", c.beta2());
      if (!(c.eps() > 0)) return Invalid("optimizer.eps", "must be > 0", c.eps());
      AdamOptions o;
      o.beta1 = c.beta1();
      o.beta2 = c.beta2();
      o.eps = c.eps();
      o.weight_decay = c.weight_decay();
      o.decoupled_weight_decay = c.kind() == config::OptimizerConfig::ADAMW;
      return std::make_unique<Adam>(std::move(params), o, *std::move(decays));
    }
  }
  return absl::InvalidArgumentError("config field optimizer.kind is not a known optimizer");
}

absl::StatusOr<std::unique_ptr<ExponentialMovingAverage>> MakeWeightAverage(const config::OptimizerConfig& c,
                                                                            NamedTensors params) {
  if (c.ema_decay() == 0) return nullptr;
  if (!(c.ema_decay() > 0 && c.ema_decay() < 1)) {
    return Invalid("optimizer.ema_decay", "must be in (0, 1) (0 keeps no average)", c.ema_decay());
  }
  return std::make_unique<ExponentialMovingAverage>(std::move(params), c.ema_decay());
}

absl::StatusOr<LrSchedule> MakeSchedule(const config::OptimizerConfig& optimizer,
                                        const config::ScheduleConfig& schedule, int64_t total_steps) {
  if (schedule.warmup_steps() < 0) return Invalid("schedule.warmup_steps", "must be >= 0", schedule.warmup_steps());
  if (schedule.min_lr_ratio() < 0 || schedule.min_lr_ratio() > 1) {
    return Invalid("schedule.min_lr_ratio", "must be in [0, 1]", schedule.min_lr_ratio());
  }
  LrSchedule s;
  s.peak_lr = optimizer.lr();
  s.warmup_steps = schedule.warmup_steps();
  s.total_steps = total_steps;
  s.min_lr_ratio = schedule.min_lr_ratio();
  switch (schedule.kind()) {
    case config::ScheduleConfig::CONSTANT: s.kind = LrSchedule::Kind::kConstant; break;
    case config::ScheduleConfig::WARMUP_RSQRT: s.kind = LrSchedule::Kind::kWarmupRsqrt; break;
    case config::ScheduleConfig::COSINE: s.kind = LrSchedule::Kind::kCosine; break;
  }
  return s;
}

}  // namespace onemodel
