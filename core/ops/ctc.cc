#include "core/ops/ctc.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/autograd.h"
#include "core/ops/axis.h"
#include "core/ops/elementwise.h"
#include "core/ops/softmax.h"

namespace onemodel::ops {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// One example over its first `length` frames of log-probabilities [length, v]: returns -log p(labels) and
// writes d(-log p)/d logits into grad [length, v], or returns +inf (grad all zero) when no alignment fits.
// The extended label sequence is blank, l1, blank, l2, ..., blank (S = 2L + 1 states); alpha and beta both
// include the emission of their own frame, so a state's occupancy is alpha + beta - emission - log p.
double ExampleLoss(const float* lp, int64_t length, int64_t v, const std::vector<int>& labels, int blank, float* grad) {
  std::fill(grad, grad + length * v, 0.f);
  const int64_t states = 2 * static_cast<int64_t>(labels.size()) + 1;
  auto label = [&](int64_t s) { return s % 2 == 1 ? labels[s / 2] : blank; };
  auto can_skip = [&](int64_t s) { return s >= 2 && label(s) != blank && label(s) != label(s - 2); };
  if (length == 0) return labels.empty() ? 0.0 : std::numeric_limits<double>::infinity();
  std::vector<double> alpha(length * states, kNegInf), beta(length * states, kNegInf);
  alpha[0] = lp[blank];
  if (states > 1) alpha[1] = lp[label(1)];
  for (int64_t t = 1; t < length; ++t) {
    const double* prev = &alpha[(t - 1) * states];
    for (int64_t s = 0; s < states; ++s) {
      double a = prev[s];
      if (s >= 1) a = LogAdd(a, prev[s - 1]);
      if (can_skip(s)) a = LogAdd(a, prev[s - 2]);
      if (a != kNegInf) alpha[t * states + s] = a + lp[t * v + label(s)];
    }
  }
  const double* last = &alpha[(length - 1) * states];
  const double log_p = LogAdd(last[states - 1], states > 1 ? last[states - 2] : kNegInf);
  if (log_p == kNegInf) return std::numeric_limits<double>::infinity();
  const int64_t end = (length - 1) * states;
  beta[end + states - 1] = lp[(length - 1) * v + label(states - 1)];
  if (states > 1) beta[end + states - 2] = lp[(length - 1) * v + label(states - 2)];
  for (int64_t t = length - 2; t >= 0; --t) {
    const double* next = &beta[(t + 1) * states];
    for (int64_t s = 0; s < states; ++s) {
      double b = next[s];
      if (s + 1 < states) b = LogAdd(b, next[s + 1]);
      if (s + 2 < states && can_skip(s + 2)) b = LogAdd(b, next[s + 2]);
      if (b != kNegInf) beta[t * states + s] = b + lp[t * v + label(s)];
    }
  }
  // d(-log p)/d logit[t][k] = softmax[t][k] - sum of the occupancies of the states labelled k at t.
  for (int64_t t = 0; t < length; ++t) {
    float* row = grad + t * v;
    for (int64_t k = 0; k < v; ++k) row[k] = std::exp(lp[t * v + k]);
    for (int64_t s = 0; s < states; ++s) {
      const double a = alpha[t * states + s], b = beta[t * states + s];
      if (a == kNegInf || b == kNegInf) continue;
      row[label(s)] -= static_cast<float>(std::exp(a + b - lp[t * v + label(s)] - log_p));
    }
  }
  return -log_p;
}

}  // namespace

Tensor CtcLoss(const Tensor& logits, const std::vector<std::vector<int>>& targets,
               const std::vector<int64_t>& input_lengths, int blank) {
  CheckF32("CtcLoss", logits);
  CHECK_EQ(logits.ndim(), 3) << "CtcLoss: logits must be [B, T, V], got " << ShapeToString(logits.shape());
  const int64_t b = logits.dim(0), t = logits.dim(1), v = logits.dim(2);
  CHECK(static_cast<int64_t>(targets.size()) == b && static_cast<int64_t>(input_lengths.size()) == b)
      << "CtcLoss: " << targets.size() << " target sequences and " << input_lengths.size() << " input lengths for "
      << b << " examples";
  CHECK(blank >= 0 && blank < v) << "CtcLoss: blank " << blank << " outside [0, " << v << ")";
  for (int64_t i = 0; i < b; ++i) {
    CHECK(input_lengths[i] >= 0 && input_lengths[i] <= t)
        << "CtcLoss: input length " << input_lengths[i] << " of example " << i << " outside [0, " << t << "]";
    for (int id : targets[i]) {
      CHECK(id >= 0 && id < v && id != blank)
          << "CtcLoss: label " << id << " of example " << i << " is the blank or outside [0, " << v << ")";
    }
  }
  const Tensor host = OnCuda(logits) ? logits.To(Device::CPU()) : logits;
  Tensor log_probs = Tensor::Empty(host.shape()), grad = Tensor::Zeros(host.shape());
  const float* px = host.data<float>();
  float* plp = log_probs.data<float>();
  float* pg = grad.data<float>();
  std::vector<double> losses(b);
#pragma omp parallel for schedule(dynamic)
  for (int64_t i = 0; i < b; ++i) {
    const int64_t offset = i * t * v;
    for (int64_t f = 0; f < input_lengths[i]; ++f) LogSoftmaxRow(px + offset + f * v, plp + offset + f * v, v);
    losses[i] = ExampleLoss(plp + offset, input_lengths[i], v, targets[i], blank, pg + offset);
  }
  double total = 0;  // summed in example order: the same value whatever the thread schedule
  for (double loss : losses) total += std::isfinite(loss) ? loss : 0.0;
  Tensor out = Tensor::Scalar(static_cast<float>(total)).To(logits.device());
  const Device device = logits.device();
  return Record(out, "CtcLoss", {logits}, [grad, device](const Tensor& g, const Tensor&) {
    NoGradScope no_grad;
    return std::vector<Tensor>{Scale(grad, g.item()).To(device)};
  });
}

}  // namespace onemodel::ops
