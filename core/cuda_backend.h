// The seam between the CPU-only core and the CUDA code. core never includes CUDA headers; the CUDA
// library (//core/cuda, built only under --config=cuda) registers an implementation at start-up.
#ifndef ONEMODEL_CORE_CUDA_BACKEND_H_
#define ONEMODEL_CORE_CUDA_BACKEND_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/ops/unary_math.h"

namespace onemodel {

enum class BinaryKind { kAdd, kSub, kMul, kDiv };

class CudaBackend {
 public:
  virtual ~CudaBackend() = default;
  // True when a usable device exists; otherwise false with the driver's reason in *why.
  virtual bool DeviceAvailable(std::string* why) = 0;
  virtual void* Alloc(size_t bytes, int device) = 0;
  virtual void Free(void* ptr, int device) = 0;
  // Copies between host and device or device and device; `*_on_device` says where each side lives.
  virtual void Copy(void* dst, bool dst_on_device, const void* src, bool src_on_device, size_t bytes) = 0;
  virtual void Zero(void* ptr, size_t bytes) = 0;
  // Waits for all queued device work (benchmarks and tests; training steps do not call it).
  virtual void Synchronize() = 0;

  // Kernels (same semantics as the CPU loops in core/ops; the formulas are shared in unary_math.h).
  virtual void UnaryForward(UnaryKind kind, const float* x, float* y, int64_t n) = 0;
  virtual void UnaryBackward(UnaryKind kind, const float* x, const float* y, const float* grad_y,
                             float* grad_x, int64_t n) = 0;
  // out[i] = a[(i / a.div) % a.period] op b[(i / b.div) % b.period] for i < n: equal shapes (div 1, period n),
  // a suffix operand repeating over leading dims (div 1, period = its size) or a per-row value (div = row width).
  struct Operand {
    const float* data;
    int64_t div, period;
  };
  virtual void Binary(BinaryKind kind, Operand a, Operand b, float* out, int64_t n) = 0;
  // out[i] = x[i] * scale + shift.
  virtual void ScaleShift(const float* x, float* out, int64_t n, float scale, float shift) = 0;
  // dst[i] += src[i].
  virtual void AddInPlace(float* dst, const float* src, int64_t n) = 0;
  // x viewed as [outer, n, inner]: out[o, i] = scale * sum_j x[o, j, i], and its adjoint
  // (out[o, j, i] = scale * g[o, i]).
  virtual void ReduceAxis(const float* x, float* out, int64_t outer, int64_t n, int64_t inner, float scale) = 0;
  virtual void ExpandAxis(const float* g, float* out, int64_t outer, int64_t n, int64_t inner, float scale) = 0;
  // Row-major C[m, n] = alpha op(A) op(B) + beta C through cuBLAS (f32, no TF32).
  virtual void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                    const float* b, float beta, float* c) = 0;
  // Softmax (or log-softmax) over rows of width n, and the backward from y and grad_y.
  virtual void SoftmaxForward(const float* x, float* y, int64_t rows, int64_t n, bool log) = 0;
  virtual void SoftmaxBackward(const float* y, const float* grad_y, float* grad_x, int64_t rows, int64_t n,
                               bool log) = 0;
  // Layer norm over rows of width d; stats holds (mean, 1/std) per row.
  virtual void LayerNormForward(const float* x, const float* gamma, const float* beta, float* y, float* stats,
                                int64_t rows, int64_t d, float eps) = 0;
  virtual void LayerNormBackward(const float* x, const float* gamma, const float* stats, const float* grad_y,
                                 float* grad_x, float* grad_gamma, float* grad_beta, int64_t rows, int64_t d) = 0;
  // Cross-entropy rows: log_probs = log_softmax(logits); loss[r] = the smoothed NLL (0 for ignored rows).
  virtual void CrossEntropyForward(const float* logits, const int64_t* targets, float* log_probs, float* loss,
                                   int64_t rows, int64_t v, float smoothing, int64_t ignore_index) = 0;
  virtual void CrossEntropyBackward(const float* log_probs, const int64_t* targets, float* grad, int64_t rows,
                                    int64_t v, float smoothing, int64_t ignore_index, float upstream) = 0;
  // w[i] -= lr * (g[i] + weight_decay * w[i]).
  virtual void SgdUpdate(float* w, const float* g, int64_t n, float lr, float weight_decay) = 0;
};

// Null when onemodel was built without --config=cuda.
CudaBackend* GetCudaBackend();
void RegisterCudaBackend(CudaBackend* backend);
// The backend, or a fatal error telling the user how to get one.
CudaBackend& RequireCudaBackend();

}  // namespace onemodel

#endif  // ONEMODEL_CORE_CUDA_BACKEND_H_
