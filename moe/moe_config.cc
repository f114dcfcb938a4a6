#include "moe/moe_config.h"

#include "absl/strings/str_cat.h"

namespace onemodel::moe {
namespace {

absl::Status Bad(const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("config field ", field, ": ", why));
}

absl::Status ValidateRouter(const config::RouterConfig& r, int64_t num_choices, const std::string& field,
                            const std::string& choices_field) {
  using R = config::RouterConfig;
  if (r.top_k() < 1 || r.top_k() > num_choices) {
    return Bad(field + ".top_k", absl::StrCat(r.top_k(), " must be in [1, ", choices_field, " = ", num_choices, "]"));
  }
  if (r.kind() == R::SWITCH && r.top_k() != 1) return Bad(field + ".top_k", "SWITCH routes to exactly 1 expert");
  if (r.kind() == R::GSHARD && r.top_k() != 2) return Bad(field + ".top_k", "GSHARD routes to exactly 2 experts");
  if (r.jitter() < 0 || r.jitter() >= 1) return Bad(field + ".jitter", absl::StrCat(r.jitter(), " must be in [0, 1)"));
  if (r.second_threshold() <= 0) {
    return Bad(field + ".second_threshold", absl::StrCat(r.second_threshold(), " must be > 0"));
  }
  if (r.kind() == R::EXPERT_CHOICE && (r.capacity_factor_train() <= 0 || r.capacity_factor_eval() <= 0)) {
    return Bad(field + ".capacity_factor_train", "EXPERT_CHOICE needs positive capacity factors (it has no dropless mode)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateMoeConfig(const config::MoeConfig& c, int64_t dim, const std::string& prefix) {
  using M = config::MoeConfig;
  if (c.num_experts() < 1) return Bad(prefix + ".num_experts", absl::StrCat(c.num_experts(), " must be >= 1"));
  if (c.hidden() < 1) return Bad(prefix + ".hidden", absl::StrCat(c.hidden(), " must be >= 1"));
  for (const auto& [name, value] : {std::make_pair(".load_balance_coef", c.load_balance_coef()),
                                    std::make_pair(".importance_coef", c.importance_coef()),
                                    std::make_pair(".load_coef", c.load_coef()),
                                    std::make_pair(".z_loss_coef", c.z_loss_coef())}) {
    if (value < 0) return Bad(prefix + name, absl::StrCat(value, " must be >= 0"));
  }
  if (c.load_coef() > 0 && (c.router().kind() != config::RouterConfig::NOISY_TOP_K || !c.router().noise())) {
    return Bad(prefix + ".load_coef", "the smooth load estimate needs a NOISY_TOP_K router with noise");
  }
  if (c.heads() < 1 || dim % c.heads() != 0) {
    return Bad(prefix + ".heads", absl::StrCat(c.heads(), " must divide the model dim ", dim));
  }
  if (c.heads() > 1 && c.layer() != M::MH_MOE) return Bad(prefix + ".heads", "heads > 1 needs layer: MH_MOE");
  if (c.layer() != M::HIERARCHICAL) {
    if (c.groups() != 1) return Bad(prefix + ".groups", "groups > 1 needs layer: HIERARCHICAL");
    return ValidateRouter(c.router(), c.num_experts(), prefix + ".router", prefix + ".num_experts");
  }
  if (c.groups() < 1 || c.num_experts() % c.groups() != 0) {
    return Bad(prefix + ".groups", absl::StrCat(c.groups(), " must divide num_experts = ", c.num_experts()));
  }
  for (const auto& [router, field] : {std::make_pair(&c.router(), ".router"), std::make_pair(&c.outer_router(), ".outer_router")}) {
    if (router->kind() != config::RouterConfig::NOISY_TOP_K && router->kind() != config::RouterConfig::LAPLACE) {
      return Bad(prefix + field + ".kind", "a hierarchical MoE gates with NOISY_TOP_K (softmax) or LAPLACE at each level");
    }
  }
  absl::Status s = ValidateRouter(c.outer_router(), c.groups(), prefix + ".outer_router", prefix + ".groups");
  if (!s.ok()) return s;
  return ValidateRouter(c.router(), c.num_experts() / c.groups(), prefix + ".router",
                        prefix + ".num_experts / " + prefix + ".groups");
}

}  // namespace onemodel::moe
