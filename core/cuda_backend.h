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
  // The caching allocator's cudaMalloc calls so far and the device memory it holds (in use or cached); the
  // copies that made the host wait and the time it spent in them (a copy to the host first waits for the queued
  // kernels: this is where a step's host synchronizations show); the uploads queued without waiting; the kernel
  // launches and GEMMs queued (each costs the host a few microseconds: the floor under a step of small ops).
  struct MemoryStats {
    int64_t device_allocations = 0;
    int64_t bytes_held = 0;
    int64_t host_copies = 0;
    double host_copy_seconds = 0;
    int64_t host_uploads = 0;
    int64_t device_calls = 0;
    int64_t classic_gemms = 0;  // products cuBLASLt had no algorithm for (cuBLAS's own heuristic ran instead)
  };
  virtual MemoryStats Memory() = 0;

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
  // General numpy broadcasting over up to kMaxDims dims: element i of `shape` (row-major) reads a and b at the
  // sums of its coordinates times their strides (0 where the operand repeats).
  static constexpr int kMaxDims = 8;
  struct Strided {
    int ndim;
    int64_t shape[kMaxDims], a_stride[kMaxDims], b_stride[kMaxDims];
  };
  virtual void BroadcastBinary(BinaryKind kind, const float* a, const float* b, float* out, const Strided& s) = 0;
  // The adjoint for a: out (shape `shape` with the dims where b_stride is 0 set to 1, row-major) gets the sums of
  // x (shape `shape`, strides a_stride) over those dims, added in x's row-major order.
  virtual void SumOverBroadcast(const float* x, float* out, const Strided& s) = 0;
  // out[i] = x[i] * scale + shift.
  virtual void ScaleShift(const float* x, float* out, int64_t n, float scale, float shift) = 0;
  // dst[i] += src[i].
  virtual void AddInPlace(float* dst, const float* src, int64_t n) = 0;
  // x viewed as [outer, n, inner]: out[o, i] = scale * sum_j x[o, j, i], and its adjoint
  // (out[o, j, i] = scale * g[o, i]).
  virtual void ReduceAxis(const float* x, float* out, int64_t outer, int64_t n, int64_t inner, float scale) = 0;
  virtual void ExpandAxis(const float* g, float* out, int64_t outer, int64_t n, int64_t inner, float scale) = 0;
  // Row-major C[m, n] = alpha op(A) op(B) + beta C through cuBLAS (f32, no TF32). With batch.count > 1, that
  // many products whose A, B and C lie batch.stride_* elements apart, in one strided-batched call.
  struct GemmBatch {
    int64_t count = 1, stride_a = 0, stride_b = 0, stride_c = 0;
  };
  virtual void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                    const float* b, float beta, float* c, const GemmBatch& batch) = 0;
  // The mixed-precision product: the same with bf16 operands (bf16 bits, as RoundToBF16 makes them), f32
  // accumulation and an f32 C, on the tensor cores.
  virtual void GemmBF16(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const uint16_t* a,
                        const uint16_t* b, float beta, float* c, const GemmBatch& batch) = 0;
  // out[i] = RoundToBF16(x[i]).
  virtual void ToBF16(const float* x, uint16_t* out, int64_t n) = 0;
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
  // out[i] = shift + scale * (uniform or standard normal at stream index offset + i), as core/philox.h.
  virtual void Random(float* out, int64_t n, uint64_t seed, uint32_t step, uint16_t layer, uint16_t purpose,
                      uint64_t offset, bool normal, float shift, float scale) = 0;
  // out[i] = x[index[i]] (rows of `width` floats), and out[r] = sum over the sources of row r of
  // weight[i] * src[i], with the sources of each destination listed in CSR form (start [rows + 1], source
  // [M], ascending) so every row is summed in a fixed order. weight may be null (all 1).
  virtual void GatherRows(const float* x, const int64_t* index, float* out, int64_t m, int64_t width) = 0;
  virtual void ScatterRows(const float* src, const float* weight, const int64_t* start, const int64_t* source,
                           float* out, int64_t rows, int64_t width) = 0;
  // out[i] = weight[i] * g[index[i]] (row-wise), and dots[i] = <g[index[i]], src[i]>.
  virtual void GatherRowsScaled(const float* g, const int64_t* index, const float* weight, float* out, int64_t m,
                                int64_t width) = 0;
  virtual void GatherRowDots(const float* g, const int64_t* index, const float* src, float* dots, int64_t m,
                             int64_t width) = 0;
  // Per row of n values: the k largest (descending, ties to the lower index).
  virtual void TopK(const float* x, float* values, int64_t* indices, int64_t rows, int64_t n, int64_t k) = 0;
  // out[r, j] = x[r, index[r, j]], and the adjoint (grad_x zeroed first, then accumulated in order).
  virtual void GatherLastDim(const float* x, const int64_t* index, float* out, int64_t rows, int64_t n, int64_t k) = 0;
  virtual void GatherLastDimBackward(const float* g, const int64_t* index, float* grad_x, int64_t rows, int64_t n,
                                     int64_t k) = 0;
  // [batch, r, c] -> [batch, c, r].
  virtual void TransposeLast2(const float* x, float* out, int64_t batch, int64_t r, int64_t c) = 0;
  // Copies `rows` rows of `width` bytes between pitched layouts (concat / split along an inner axis).
  virtual void CopyRows2D(void* dst, size_t dst_pitch, const void* src, size_t src_pitch, size_t width,
                          size_t rows) = 0;
  // w[i] -= lr * (g[i] + weight_decay * w[i]).
  virtual void SgdUpdate(float* w, const float* g, int64_t n, float lr, float weight_decay) = 0;
  // One Adam step over n values, core/optim.cc's formula: g' = g + l2 w; m = beta1 m + (1 - beta1) g';
  // v = beta2 v + (1 - beta2) g'^2; w = decay w - step_size m / (sqrt(v) inv_sqrt_bias2 + eps).
  struct AdamScalars {
    float beta1, beta2, l2, decay, step_size, inv_sqrt_bias2, eps;
  };
  virtual void AdamUpdate(float* w, const float* g, float* m, float* v, int64_t n, const AdamScalars& s) = 0;
  // out[i] = (uniform at stream index offset + i) >= p ? keep_scale : 0, the stream of core/philox.h.
  virtual void DropoutMask(float* out, int64_t n, uint64_t seed, uint32_t step, uint16_t layer, uint16_t purpose,
                           uint64_t offset, float p, float keep_scale) = 0;
  // Pairwise distances (core/ops/distance.cc): d [n, e] holds -2 x.w; it becomes sqrt(max(d + xn[i] + wn[j], 0))
  // with xn, wn the rows' squared norms. Its backward scale: s = dist > 0 ? g / dist : 0.
  virtual void DistanceFinish(float* d, const float* xn, const float* wn, int64_t n, int64_t e) = 0;
  virtual void DistanceGradScale(const float* g, const float* dist, float* s, int64_t count) = 0;
  // Depthwise convolution, channels last (core/ops/conv.cc): x [b, h, w, c], weight [kh, kw, c],
  // out [b, oh, ow, c]; taps outside the input are padding (zero).
  struct DepthwiseConvShape {
    int64_t b, h, w, c, kh, kw, oh, ow;
    int64_t stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w;
  };
  virtual void DepthwiseConvForward(const DepthwiseConvShape& s, const float* x, const float* weight, float* out) = 0;
  // Overwrites grad_x and grad_weight (either may be null). Every sum runs in a fixed order.
  virtual void DepthwiseConvBackward(const DepthwiseConvShape& s, const float* x, const float* weight,
                                     const float* grad_out, float* grad_x, float* grad_weight) = 0;
  // Max or average pooling, channels last (core/ops/pool.cc): x [b, h, w, c] -> out [b, oh, ow, c] over kh x kw
  // windows; padded taps take no part (never the max, not counted in the average). Max pooling writes each output's
  // input element to argmax (-1 where a window holds no input); the backward overwrites grad_x (argmax unused for
  // the average).
  struct PoolShape {
    int64_t b, h, w, c, kh, kw, oh, ow, stride_h, stride_w, pad_h, pad_w;
  };
  virtual void PoolForward(const PoolShape& s, bool max, const float* x, float* out, int64_t* argmax) = 0;
  virtual void PoolBackward(const PoolShape& s, bool max, const int64_t* argmax, const float* grad_out,
                            float* grad_x) = 0;
  // x viewed as [outer, n, inner]: out[o, i] = max_j x[o, j, i] and argmax[o, i] its first j; the backward
  // overwrites grad_x with g at each argmax and 0 elsewhere.
  virtual void MaxAxis(const float* x, float* out, int64_t* argmax, int64_t outer, int64_t n, int64_t inner) = 0;
  virtual void MaxAxisBackward(const float* g, const int64_t* argmax, float* grad_x, int64_t outer, int64_t n,
                               int64_t inner) = 0;
};

// Null when onemodel was built without --config=cuda.
CudaBackend* GetCudaBackend();
void RegisterCudaBackend(CudaBackend* backend);
// The backend, or a fatal error telling the user how to get one.
CudaBackend& RequireCudaBackend();
// The backend when a CUDA device is usable; otherwise prints "SKIPPED: no CUDA device (<why>)" and returns
// null, for GPU tests and benchmarks that then exit 0.
CudaBackend* UsableCudaBackendOrSkip();

}  // namespace onemodel

#endif  // ONEMODEL_CORE_CUDA_BACKEND_H_
