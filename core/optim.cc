#include "core/optim.h"

#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "core/cuda_backend.h"
#include "core/ops/ops.h"

namespace onemodel {
namespace {
std::vector<Tensor> ZerosLike(const NamedTensors& params) {
  std::vector<Tensor> out;
  for (const auto& [_, p] : params) out.push_back(Tensor::Zeros(p.shape(), DType::kF32, p.device()));
  return out;
}

std::vector<float> PerParameter(const NamedTensors& params, float all, std::vector<float> weight_decays) {
  if (weight_decays.empty()) return std::vector<float>(params.size(), all);
  CHECK_EQ(weight_decays.size(), params.size()) << "Optimizer: one weight decay per parameter";
  for (float d : weight_decays) CHECK_GE(d, 0.f) << "Optimizer: weight decay must be >= 0";
  return weight_decays;
}

NamedTensors NameState(const char* kind, const NamedTensors& params, const std::vector<Tensor>& state) {
  NamedTensors out;
  for (size_t i = 0; i < params.size(); ++i) out.emplace_back(std::string(kind) + "." + params[i].first, state[i]);
  return out;
}
}  // namespace

void Optimizer::ZeroGrad() {
  for (auto& [_, p] : params_) p.ZeroGrad();
}

Sgd::Sgd(NamedTensors params, SgdOptions options, std::vector<float> weight_decays)
    : Optimizer(std::move(params)),
      options_(options),
      weight_decays_(PerParameter(params_, options.weight_decay, std::move(weight_decays))),
      velocity_(ZerosLike(params_)) {
  CHECK(options.momentum >= 0.f && options.weight_decay >= 0.f) << "Sgd: momentum and weight_decay must be >= 0";
  CHECK(!options.nesterov || options.momentum > 0.f) << "Sgd: Nesterov needs momentum > 0";
}

void Sgd::Step(float lr) {
  NoGradScope no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i].second;
    if (!p.grad().defined()) continue;
    const float weight_decay = weight_decays_[i];
    if (!p.device().is_cpu()) {
      CHECK_EQ(options_.momentum, 0.f) << "Sgd: momentum on CUDA has no kernel yet";
      RequireCudaBackend().SgdUpdate(static_cast<float*>(p.raw_data()), static_cast<const float*>(p.grad().raw_data()),
                                     p.numel(), lr, weight_decay);
      continue;
    }
    float* w = p.data<float>();
    const float* g = p.grad().data<float>();
    float* v = velocity_[i].data<float>();
    const SgdOptions o = options_;
    const int64_t n = p.numel();
#pragma omp parallel for if (n > (1 << 15))
    for (int64_t j = 0; j < n; ++j) {
      float d = g[j] + weight_decay * w[j];
      if (o.momentum > 0.f) {
        v[j] = o.momentum * v[j] + d;  // PyTorch's convention (no dampening)
        d = o.nesterov ? d + o.momentum * v[j] : v[j];
      }
      w[j] -= lr * d;
    }
  }
}

NamedTensors Sgd::State() const { return NameState("sgd.velocity", params_, velocity_); }

Adam::Adam(NamedTensors params, AdamOptions options, std::vector<float> weight_decays)
    : Optimizer(std::move(params)),
      options_(options),
      weight_decays_(PerParameter(params_, options.weight_decay, std::move(weight_decays))),
      m_(ZerosLike(params_)),
      v_(ZerosLike(params_)),
      step_(Tensor::Scalar(0.f)) {
  CHECK(options.beta1 >= 0.f && options.beta1 < 1.f && options.beta2 >= 0.f && options.beta2 < 1.f)
      << "Adam: betas must be in [0, 1)";
  CHECK(options.eps > 0.f && options.weight_decay >= 0.f) << "Adam: eps must be > 0 and weight_decay >= 0";
}

void Adam::Step(float lr) {
  NoGradScope no_grad;
  const float t = (step_.data<float>()[0] += 1.f);
  const AdamOptions o = options_;
  const float bias1 = 1.f - std::pow(o.beta1, t);
  const float bias2 = 1.f - std::pow(o.beta2, t);
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i].second;
    if (!p.grad().defined()) continue;
    // w -= lr * m_hat / (sqrt(v_hat) + eps), with the bias corrections folded into two scalars.
    const float step_size = lr / bias1, inv_sqrt_bias2 = 1.f / std::sqrt(bias2);
    const float decay = o.decoupled_weight_decay ? 1.f - lr * weight_decays_[i] : 1.f;
    const float l2 = o.decoupled_weight_decay ? 0.f : weight_decays_[i];
    const int64_t n = p.numel();
    if (!p.device().is_cpu()) {
      CHECK(m_[i].device() == p.device()) << "Adam: parameter " << params_[i].first << " moved to "
                                          << p.device().ToString() << " after the optimizer was made";
      RequireCudaBackend().AdamUpdate(static_cast<float*>(p.raw_data()), static_cast<const float*>(p.grad().raw_data()),
                                      static_cast<float*>(m_[i].raw_data()), static_cast<float*>(v_[i].raw_data()), n,
                                      {o.beta1, o.beta2, l2, decay, step_size, inv_sqrt_bias2, o.eps});
      continue;
    }
    float* w = p.data<float>();
    const float* g = p.grad().data<float>();
    float* m = m_[i].data<float>();
    float* v = v_[i].data<float>();
#pragma omp parallel for simd if (n > (1 << 15))
    for (int64_t j = 0; j < n; ++j) {
      const float gj = g[j] + l2 * w[j];
      m[j] = o.beta1 * m[j] + (1.f - o.beta1) * gj;
      v[j] = o.beta2 * v[j] + (1.f - o.beta2) * gj * gj;
      w[j] = decay * w[j] - step_size * m[j] / (std::sqrt(v[j]) * inv_sqrt_bias2 + o.eps);
    }
  }
}

NamedTensors Adam::State() const {
  NamedTensors out = NameState("adam.m", params_, m_);
  NamedTensors v = NameState("adam.v", params_, v_);
  out.insert(out.end(), v.begin(), v.end());
  out.emplace_back("adam.step", step_);
  return out;
}

ExponentialMovingAverage::ExponentialMovingAverage(NamedTensors params, float decay)
    : params_(std::move(params)), decay_(decay), updates_(Tensor::Scalar(0.f)) {
  CHECK(decay > 0.f && decay < 1.f) << "ExponentialMovingAverage: decay must be in (0, 1)";
  NoGradScope no_grad;
  for (const auto& [_, p] : params_) average_.push_back(p.Clone());
}

void ExponentialMovingAverage::Update() {
  NoGradScope no_grad;
  const float t = (updates_.data<float>()[0] += 1.f);
  const float d = std::min(decay_, (1.f + t) / (10.f + t));
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i].second;
    if (!p.device().is_cpu()) {  // three device temporaries, reused through the caching allocator
      average_[i] = ops::Add(ops::Scale(average_[i], d), ops::Scale(p, 1.f - d));
      continue;
    }
    const float* w = p.data<float>();
    float* a = average_[i].data<float>();
    const int64_t n = p.numel();
#pragma omp parallel for simd if (n > (1 << 15))
    for (int64_t j = 0; j < n; ++j) a[j] = d * a[j] + (1.f - d) * w[j];
  }
}

NamedTensors ExponentialMovingAverage::State() const {
  NamedTensors out = NameState("ema", params_, average_);
  out.emplace_back("ema.updates", updates_);
  return out;
}

NamedTensors ExponentialMovingAverage::AsAverages(const NamedTensors& params) {
  std::vector<Tensor> tensors;
  for (const auto& [_, p] : params) tensors.push_back(p);
  return NameState("ema", params, tensors);
}

void ExponentialMovingAverage::Restart() {
  for (size_t i = 0; i < params_.size(); ++i) average_[i].CopyFrom(params_[i].second);
  updates_.data<float>()[0] = 0.f;
}

void ExponentialMovingAverage::Swap() {
  NoGradScope no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor values = params_[i].second.Clone();
    params_[i].second.CopyFrom(average_[i]);
    average_[i].CopyFrom(values);
  }
}

double GradSquaredSum(const std::vector<Tensor>& params) {
  double sum = 0.0;
  Tensor device_sum;  // the parameters on a device, summed there: one read back (a wait) instead of one each
  for (const Tensor& p : params) {
    if (!p.grad().defined()) continue;
    if (!p.device().is_cpu()) {
      NoGradScope no_grad;
      const Tensor squares = ops::SumAll(ops::Mul(p.grad(), p.grad()));
      device_sum = device_sum.defined() ? ops::Add(device_sum, squares) : squares;
      continue;
    }
    const float* g = p.grad().data<float>();
    const int64_t n = p.numel();
#pragma omp parallel for simd reduction(+ : sum) if (n > (1 << 15))
    for (int64_t j = 0; j < n; ++j) sum += static_cast<double>(g[j]) * g[j];
  }
  if (device_sum.defined()) sum += device_sum.item();
  return sum;
}

void ClipGradsToNorm(const std::vector<Tensor>& params, float norm, float max_norm) {
  CHECK_GT(max_norm, 0.f) << "ClipGradNorm: max_norm must be > 0";
  if (norm <= max_norm) return;
  const float scale = max_norm / (norm + 1e-6f);
  for (const Tensor& p : params) {
    if (!p.grad().defined()) continue;
    const int64_t n = p.numel();
    if (!p.device().is_cpu()) {
      float* g = static_cast<float*>(p.grad().raw_data());
      RequireCudaBackend().ScaleShift(g, g, n, scale, 0.f);
      continue;
    }
    float* g = p.grad().data<float>();
#pragma omp parallel for simd if (n > (1 << 15))
    for (int64_t j = 0; j < n; ++j) g[j] *= scale;
  }
}

float ClipGradNorm(const std::vector<Tensor>& params, float max_norm) {
  const float norm = static_cast<float>(std::sqrt(GradSquaredSum(params)));
  ClipGradsToNorm(params, norm, max_norm);
  return norm;
}

float LrSchedule::At(int64_t step) const {
  const float s = static_cast<float>(std::max<int64_t>(step, 1));
  if (warmup_steps > 0 && step <= warmup_steps) return peak_lr * s / warmup_steps;
  switch (kind) {
    case Kind::kConstant:
      return peak_lr;
    case Kind::kWarmupRsqrt:
      return peak_lr * std::sqrt(static_cast<float>(std::max<int64_t>(warmup_steps, 1)) / s);
    case Kind::kCosine: {
      const int64_t span = std::max<int64_t>(total_steps - warmup_steps, 1);
      const float progress = std::min(1.f, static_cast<float>(step - warmup_steps) / span);
      const float cosine = 0.5f * (1.f + std::cos(3.14159265358979f * progress));
      return peak_lr * (min_lr_ratio + (1.f - min_lr_ratio) * cosine);
    }
  }
  return peak_lr;
}

}  // namespace onemodel
