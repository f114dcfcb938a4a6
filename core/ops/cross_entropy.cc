#include "core/ops/cross_entropy.h"

#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "core/ops/axis.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "core/ops/softmax.h"
#include "core/ops/unary_math.h"

namespace onemodel::ops {

namespace {
// CUDA: per-row losses on the device, summed there; nothing waits for the device. Targets on the host are
// range-checked there and uploaded (the model's are); targets already on the device are read back for the check.
Tensor CrossEntropyCuda(const Tensor& logits, const Tensor& targets, float smoothing, int64_t ignore_index) {
  const int64_t rows = logits.dim(0), v = logits.dim(1);
  const std::vector<int64_t> host_targets = targets.ToIndices();
  int64_t counted = 0;
  for (int64_t r = 0; r < rows; ++r) {
    if (host_targets[r] == ignore_index) continue;
    CHECK(host_targets[r] >= 0 && host_targets[r] < v)
        << "CrossEntropy: target " << host_targets[r] << " at row " << r << " outside [0, " << v << ")";
    ++counted;
  }
  const Tensor device_targets = targets.To(logits.device());
  Tensor log_probs = Tensor::Empty(logits.shape(), DType::kF32, logits.device());
  Tensor row_loss = Tensor::Empty({rows}, DType::kF32, logits.device());
  RequireCudaBackend().CrossEntropyForward(F32(logits), static_cast<const int64_t*>(device_targets.raw_data()),
                                           F32(log_probs), F32(row_loss), rows, v, smoothing, ignore_index);
  const float scale = counted > 0 ? 1.f / counted : 0.f;
  Tensor out;
  {
    NoGradScope no_grad;
    out = Scale(SumAll(row_loss), scale);
  }
  return Record(out, "CrossEntropy", {logits},
                [device_targets, log_probs, smoothing, ignore_index, scale, rows, v](const Tensor& g, const Tensor&) {
                  const Tensor unit = Tensor::Empty(log_probs.shape(), DType::kF32, log_probs.device());
                  Tensor gx = Tensor::Empty(log_probs.shape(), DType::kF32, log_probs.device());
                  CudaBackend& cuda = RequireCudaBackend();
                  cuda.CrossEntropyBackward(F32(log_probs), static_cast<const int64_t*>(device_targets.raw_data()),
                                            F32(unit), rows, v, smoothing, ignore_index, scale);
                  // Times the upstream gradient where it is (a device scalar): nothing is read back.
                  cuda.Binary(BinaryKind::kMul, {F32(unit), 1, rows * v}, {F32(g), 1, 1}, F32(gx), rows * v);
                  return std::vector<Tensor>{gx};
                });
}
}  // namespace

Tensor CrossEntropy(const Tensor& logits, const Tensor& targets, float label_smoothing, int64_t ignore_index) {
  CheckF32("CrossEntropy", logits);
  if (OnCuda(logits)) {
    CHECK(targets.dtype() == DType::kI64 && (targets.device().is_cpu() || targets.device() == logits.device()))
        << "CrossEntropy: targets must be i64 on the host or on " << logits.device().ToString();
    CHECK(logits.ndim() == 2 && targets.shape() == Shape{logits.dim(0)})
        << "CrossEntropy: logits " << ShapeToString(logits.shape()) << " and targets "
        << ShapeToString(targets.shape()) << " must be [N, V] and [N]";
    return CrossEntropyCuda(logits, targets, label_smoothing, ignore_index);
  }
  CheckCpuF32("CrossEntropy", logits);
  CheckIndices("CrossEntropy", targets);
  CHECK(logits.ndim() == 2 && targets.shape() == Shape{logits.dim(0)})
      << "CrossEntropy: logits " << ShapeToString(logits.shape()) << " and targets "
      << ShapeToString(targets.shape()) << " must be [N, V] and [N]";
  CHECK(label_smoothing >= 0.f && label_smoothing < 1.f) << "CrossEntropy: label_smoothing " << label_smoothing
                                                         << " outside [0, 1)";
  const int64_t rows = logits.dim(0), v = logits.dim(1);
  const int64_t* pt = targets.data<int64_t>();
  int64_t counted = 0;
  for (int64_t r = 0; r < rows; ++r) {
    if (pt[r] == ignore_index) continue;
    CHECK(pt[r] >= 0 && pt[r] < v) << "CrossEntropy: target " << pt[r] << " at row " << r << " outside [0, " << v
                                   << ")";
    ++counted;
  }
  Tensor log_probs = Tensor::Empty(logits.shape());
  const float* px = logits.data<float>();
  float* plp = log_probs.data<float>();
  double total = 0.0;
#pragma omp parallel for reduction(+ : total) if (logits.numel() > (1 << 14))
  for (int64_t r = 0; r < rows; ++r) {
    if (pt[r] == ignore_index) continue;
    LogSoftmaxRow(px + r * v, plp + r * v, v);
    float mean_lp = 0.f;
#pragma omp simd reduction(+ : mean_lp)
    for (int64_t j = 0; j < v; ++j) mean_lp += plp[r * v + j];
    mean_lp /= v;
    total += -(1.f - label_smoothing) * plp[r * v + pt[r]] - label_smoothing * mean_lp;
  }
  const float scale = counted > 0 ? 1.f / counted : 0.f;
  Tensor out = Tensor::Scalar(static_cast<float>(total) * scale);
  return Record(out, "CrossEntropy", {logits},
                [targets, log_probs, label_smoothing, ignore_index, scale, rows, v](const Tensor& g, const Tensor&) {
                  Tensor gx = Tensor::Empty(log_probs.shape());
                  const float upstream = g.item() * scale;
                  const int64_t* pt = targets.data<int64_t>();
                  const float* plp = log_probs.data<float>();
                  float* pgx = gx.data<float>();
                  const float uniform = label_smoothing / v;
                  // d loss / d logits = softmax - target distribution.
#pragma omp parallel for if (rows * v > (1 << 14))
                  for (int64_t r = 0; r < rows; ++r) {
                    float* row = pgx + r * v;
                    if (pt[r] == ignore_index) {
                      std::fill(row, row + v, 0.f);
                      continue;
                    }
                    const float* lp = plp + r * v;
#pragma omp simd
                    for (int64_t j = 0; j < v; ++j) row[j] = upstream * (ExpF(lp[j]) - uniform);
                    pgx[r * v + pt[r]] -= upstream * (1.f - label_smoothing);
                  }
                  return std::vector<Tensor>{gx};
                });
}

}  // namespace onemodel::ops
