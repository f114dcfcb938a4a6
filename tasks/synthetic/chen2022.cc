#include "tasks/synthetic/chen2022.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>

#include "absl/strings/str_format.h"
#include "core/autograd.h"
#include "core/ops/ops.h"
#include "core/optim.h"
#include "core/rng.h"
#include "moe/dispatcher.h"
#include "moe/experts.h"
#include "moe/routing_stats.h"

namespace onemodel::synthetic {
namespace {

constexpr uint16_t kInitPurpose = 40, kRouterNoisePurpose = 41;

std::optional<UnaryKind> Activation(bool cubic) {
  return cubic ? std::optional<UnaryKind>(UnaryKind::kCube) : std::nullopt;
}

double Accuracy(const Tensor& logits, const Tensor& labels) {
  const std::vector<int64_t> predicted = ops::TopK(logits, 1).indices.ToIndices(), truth = labels.ToIndices();
  int64_t correct = 0;
  for (size_t i = 0; i < truth.size(); ++i) correct += predicted[i] == truth[i];
  return static_cast<double>(correct) / truth.size();
}

struct Dims {
  int64_t n, patches, dim;
};
Dims DimsOf(const ClusterData& d) { return {d.x.dim(0), d.x.dim(1), d.x.dim(2)}; }

// The single expert: one patch-conv network (an expert group of one) over every sample.
class SingleExpert {
 public:
  SingleExpert(int64_t dim, int64_t filters, bool cubic, uint64_t seed)
      : net_(1, dim, 2, filters, Activation(cubic), 1.f, seed, 1) {}
  Tensor Logits(const ClusterData& d) const {
    const Dims s = DimsOf(d);
    return net_.Forward(ops::Reshape(d.x, {s.n, s.patches * s.dim}), {s.n});
  }
  Tensor weight() const { return net_.weight; }

 private:
  moe::PatchConvExperts net_;
};

// The MoE: router h = Theta^T sum_p x_p (zero-initialized, no bias), U[0, 1) noise in training, top-1 by
// argmax, gate = softmax(noisy h) at the chosen expert; output = gate x the chosen expert's logits.
class ChenMoe {
 public:
  ChenMoe(int64_t dim, int64_t experts, int64_t filters, bool cubic, float init_scale, uint64_t seed)
      : experts_(experts), seed_(seed), net_(experts, dim, 2, filters, Activation(cubic), init_scale, seed, 2) {
    theta_ = Tensor::Zeros({dim, experts}).set_requires_grad(true);
  }

  struct Output {
    Tensor logits;
    moe::Routing routing;
  };

  Output Forward(const ClusterData& d, bool training, uint32_t epoch) const {
    const Dims s = DimsOf(d);
    Tensor h = ops::MatMul(ops::Sum(d.x, 1), theta_);  // [n, E]
    if (training) h = ops::Add(h, RandomUniform(h.shape(), RngKey{seed_, epoch, 3, kRouterNoisePurpose}));
    const ops::TopKResult top = ops::TopK(h, 1);
    moe::Routing r;
    r.num_tokens = s.n;
    r.num_experts = experts_;
    std::vector<int64_t> tokens(s.n);
    std::iota(tokens.begin(), tokens.end(), 0);
    r.token = Tensor::FromIndices(tokens, {s.n});
    r.expert = top.indices.View({s.n});
    r.gate = ops::Reshape(ops::GatherLastDim(ops::Softmax(h), top.indices), {s.n});
    r.routed = s.n;
    const moe::DispatchPlan plan = moe::PlanDispatch(r);
    const Tensor rows = moe::Dispatch(ops::Reshape(d.x, {s.n, s.patches * s.dim}), plan);
    return {moe::Combine(net_.Forward(rows, plan.rows_per_expert), plan), r};
  }

  // Experts by normalized gradient descent (each expert's gradient divided by its norm), router by SGD.
  void Step(float expert_lr, float router_lr) {
    NoGradScope no_grad;
    Tensor w = net_.weight;
    const int64_t per_expert = w.numel() / experts_;
    float* pw = w.data<float>();
    const float* g = w.grad().data<float>();
    for (int64_t e = 0; e < experts_; ++e) {
      double norm = 0;
      for (int64_t i = 0; i < per_expert; ++i) norm += static_cast<double>(g[e * per_expert + i]) * g[e * per_expert + i];
      if (norm == 0) continue;  // an expert that got no samples keeps its weights
      const float scale = expert_lr / static_cast<float>(std::sqrt(norm));
      for (int64_t i = 0; i < per_expert; ++i) pw[e * per_expert + i] -= scale * g[e * per_expert + i];
    }
    if (theta_.grad().defined()) {
      float* t = theta_.data<float>();
      const float* gt = theta_.grad().data<float>();
      for (int64_t i = 0; i < theta_.numel(); ++i) t[i] -= router_lr * gt[i];
    }
  }
  void ZeroGrad() {
    net_.ZeroGrad();
    theta_.ZeroGrad();
  }

 private:
  int64_t experts_;
  uint64_t seed_;
  moe::PatchConvExperts net_;
  Tensor theta_;
};

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

void MeanStd(const std::vector<double>& v, double* mean, double* std) {
  *mean = 0;
  for (double x : v) *mean += x / v.size();
  double var = 0;
  for (double x : v) var += (x - *mean) * (x - *mean) / v.size();
  *std = std::sqrt(var);
}

}  // namespace

const char* ChenModelName(ChenModel model) {
  switch (model) {
    case ChenModel::kSingleLinear: return "single linear";
    case ChenModel::kSingleCubic: return "single cubic";
    case ChenModel::kMoeLinear: return "MoE linear";
    case ChenModel::kMoeCubic: return "MoE cubic";
  }
  return "?";
}

ChenRun TrainChenModel(ChenModel model, const config::Chen2022Config& c, const ClusterDataset& data, uint64_t seed,
                       const std::function<void(const std::string&)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  const bool cubic = model == ChenModel::kSingleCubic || model == ChenModel::kMoeCubic;
  const int64_t dim = data.train.x.dim(2);
  ChenRun run;
  if (model == ChenModel::kSingleLinear || model == ChenModel::kSingleCubic) {
    SingleExpert net(dim, c.single_filters(), cubic, seed);
    AdamOptions o;
    o.weight_decay = c.single_l2();  // L2 in the gradient, as torch.optim.Adam's weight_decay
    Adam adam({{"w", net.weight()}}, o);
    const float lr = cubic ? c.single_lr_cubic() : c.single_lr_linear();
    for (int epoch = 0; epoch < c.single_epochs(); ++epoch) {
      adam.ZeroGrad();
      const Tensor loss = ops::CrossEntropy(net.Logits(data.train), data.train.label);
      loss.Backward();
      adam.Step(lr);
      run.final_loss = loss.item();
      if (progress && epoch % 200 == 0) progress(absl::StrFormat("epoch %d loss %.4f", epoch, run.final_loss));
    }
    NoGradScope no_grad;
    run.test_accuracy = Accuracy(net.Logits(data.test), data.test.label);
  } else {
    ChenMoe net(dim, c.experts(), c.moe_filters(), cubic, c.expert_init_scale(), seed);
    for (int epoch = 0; epoch < c.moe_epochs(); ++epoch) {
      net.ZeroGrad();
      const Tensor loss = ops::CrossEntropy(net.Forward(data.train, true, epoch).logits, data.train.label);
      loss.Backward();
      net.Step(c.expert_lr(), c.router_lr());
      run.final_loss = loss.item();
      if (progress && epoch % 100 == 0) progress(absl::StrFormat("epoch %d loss %.4f", epoch, run.final_loss));
    }
    NoGradScope no_grad;
    const ChenMoe::Output out = net.Forward(data.test, false, 0);
    run.test_accuracy = Accuracy(out.logits, data.test.label);
    run.dispatch_entropy = moe::ComputeRoutingStats(out.routing, data.test.cluster).dispatch_entropy;
  }
  run.seconds = Seconds(start);
  return run;
}

absl::StatusOr<std::vector<ChenSummary>> RunChen2022(const config::Chen2022Config& c) {
  if (c.seeds() < 1) return absl::InvalidArgumentError("config field chen2022.seeds must be >= 1");
  if (c.experts() < 1 || c.moe_filters() < 1 || c.single_filters() < 1) {
    return absl::InvalidArgumentError("config fields chen2022.experts, moe_filters, single_filters must be >= 1");
  }
  if (c.moe_epochs() < 0 || c.single_epochs() < 0) {
    return absl::InvalidArgumentError("config fields chen2022.moe_epochs and single_epochs must be >= 0");
  }
  const ChenModel models[] = {ChenModel::kSingleLinear, ChenModel::kSingleCubic, ChenModel::kMoeLinear,
                              ChenModel::kMoeCubic};
  std::vector<ChenSummary> summaries;
  for (ChenModel m : models) summaries.push_back({m, 0, 0, 0, 0, {}});
  for (int s = 0; s < c.seeds(); ++s) {
    absl::StatusOr<ClusterDataset> data = MakeClusterDataset(c.data(), 1000 + s);
    if (!data.ok()) return data.status();
    for (ChenSummary& summary : summaries) {
      const ChenRun run = TrainChenModel(summary.model, c, *data, 1000 + s);
      std::printf("seed %d  %-13s test acc %.4f  dispatch entropy %s  final loss %.4f  (%.1f s)\n", s,
                  ChenModelName(summary.model), run.test_accuracy,
                  run.dispatch_entropy >= 0 ? absl::StrFormat("%.3f", run.dispatch_entropy).c_str() : "  -  ",
                  run.final_loss, run.seconds);
      std::fflush(stdout);
      summary.runs.push_back(run);
    }
  }
  std::printf("\n%-13s  %-17s  %s\n", "model", "test accuracy", "dispatch entropy");
  for (ChenSummary& summary : summaries) {
    std::vector<double> acc, ent;
    for (const ChenRun& r : summary.runs) {
      acc.push_back(r.test_accuracy);
      ent.push_back(r.dispatch_entropy);
    }
    MeanStd(acc, &summary.acc_mean, &summary.acc_std);
    MeanStd(ent, &summary.entropy_mean, &summary.entropy_std);
    const bool is_moe = summary.model == ChenModel::kMoeLinear || summary.model == ChenModel::kMoeCubic;
    std::printf("%-13s  %6.2f%% +- %5.2f  %s\n", ChenModelName(summary.model), 100 * summary.acc_mean,
                100 * summary.acc_std,
                is_moe ? absl::StrFormat("%.3f +- %.3f", summary.entropy_mean, summary.entropy_std).c_str() : "-");
  }
  std::printf("BENCH chen2022 moe_cubic_acc=%.4f single_cubic_acc=%.4f moe_cubic_entropy=%.3f moe_linear_entropy=%.3f "
              "moe_linear_acc=%.4f single_linear_acc=%.4f seeds=%d\n",
              summaries[3].acc_mean, summaries[1].acc_mean, summaries[3].entropy_mean, summaries[2].entropy_mean,
              summaries[2].acc_mean, summaries[0].acc_mean, c.seeds());
  return summaries;
}

}  // namespace onemodel::synthetic
