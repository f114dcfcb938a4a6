// Optimizers over named parameters, gradient clipping and learning-rate schedules.
// Updates run under no-grad and read each parameter's accumulated .grad (parameters without one are skipped).
#ifndef ONEMODEL_CORE_OPTIM_H_
#define ONEMODEL_CORE_OPTIM_H_

#include <cstdint>
#include <memory>

#include "core/module.h"

namespace onemodel {

class Optimizer {
 public:
  explicit Optimizer(NamedTensors params) : params_(std::move(params)) {}
  virtual ~Optimizer() = default;
  // One update with learning rate `lr`.
  virtual void Step(float lr) = 0;
  // Named state tensors (moments, momentum buffers, step count), for checkpoints.
  virtual NamedTensors State() const = 0;
  void ZeroGrad();
  const NamedTensors& params() const { return params_; }

 protected:
  NamedTensors params_;
};

struct SgdOptions {
  float momentum = 0.f;
  bool nesterov = false;
  float weight_decay = 0.f;  // L2, added to the gradient
};

class Sgd : public Optimizer {
 public:
  // `weight_decays`, one per parameter in `params` order, replaces options.weight_decay parameter by parameter
  // (e.g. none for norms or for a part of the model); empty: options.weight_decay for all.
  Sgd(NamedTensors params, SgdOptions options, std::vector<float> weight_decays = {});
  void Step(float lr) override;
  NamedTensors State() const override;

 private:
  SgdOptions options_;
  std::vector<float> weight_decays_;
  std::vector<Tensor> velocity_;
};

struct AdamOptions {
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  float weight_decay = 0.f;
  bool decoupled_weight_decay = false;  // AdamW (Loshchilov & Hutter) when true; L2 in the gradient when false
};

class Adam : public Optimizer {
 public:
  // `weight_decays` as Sgd's.
  Adam(NamedTensors params, AdamOptions options, std::vector<float> weight_decays = {});
  void Step(float lr) override;
  NamedTensors State() const override;

 private:
  AdamOptions options_;
  std::vector<float> weight_decays_;
  std::vector<Tensor> m_, v_;
  Tensor step_;  // scalar, so it checkpoints with the moments
};

// Polyak averaging of the parameters: after each optimizer step, avg = d avg + (1 - d) w, with the decay warmed up as
// d = min(decay, (1 + t) / (10 + t)) at update t (TensorFlow's ExponentialMovingAverage num_updates rule) so the
// random initialization does not linger in the average of a short run.
class ExponentialMovingAverage {
 public:
  ExponentialMovingAverage(NamedTensors params, float decay);
  void Update();
  // "ema.<parameter name>" averages and "ema.updates", for checkpoints.
  NamedTensors State() const;
  // `params` under their averages' names in State(): restoring a checkpoint's averages into them loads the averages
  // as the weights (what evaluation of a checkpoint wants).
  static NamedTensors AsAverages(const NamedTensors& params);
  // Exchanges the parameters' values with the averages (twice restores both): evaluation runs on the averages.
  void Swap();
  // Starts the average over from the parameters' current values.
  void Restart();

 private:
  NamedTensors params_;
  float decay_;
  std::vector<Tensor> average_;
  Tensor updates_;  // scalar, so it checkpoints with the averages
};

// Scales all gradients so their global L2 norm is at most max_norm; returns the norm before clipping.
float ClipGradNorm(const std::vector<Tensor>& params, float max_norm);
// Its two halves, for gradients spread over ranks (distributed/collectives.h sums the squares over the ranks):
// the sum of the squared gradient entries, and the scaling of every gradient by max_norm / norm when norm > max_norm.
double GradSquaredSum(const std::vector<Tensor>& params);
void ClipGradsToNorm(const std::vector<Tensor>& params, float norm, float max_norm);

struct LrSchedule {
  enum class Kind { kConstant, kWarmupRsqrt, kCosine };
  Kind kind = Kind::kConstant;
  float peak_lr = 1e-3f;
  int64_t warmup_steps = 0;
  int64_t total_steps = 0;   // cosine only: the step where the decay ends
  float min_lr_ratio = 0.f;  // cosine only: final lr / peak lr
  // Learning rate of (1-based) step `step`: linear warmup to peak, then constant, 1/sqrt decay
  // ("noam": peak * sqrt(warmup / step)) or half-cosine down to min_lr_ratio * peak.
  float At(int64_t step) const;
};

}  // namespace onemodel

#endif  // ONEMODEL_CORE_OPTIM_H_
