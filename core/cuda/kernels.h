// Host-side launchers of the CUDA kernels (implemented in the .cu files, called by backend.cc). All run on
// the default stream and return without synchronizing.
#ifndef ONEMODEL_CORE_CUDA_KERNELS_H_
#define ONEMODEL_CORE_CUDA_KERNELS_H_

#include <cstdint>

#include "core/cuda_backend.h"
#include "core/ops/unary_math.h"

namespace onemodel::cuda {

void LaunchUnaryForward(UnaryKind kind, const float* x, float* y, int64_t n);
void LaunchUnaryBackward(UnaryKind kind, const float* x, const float* y, const float* grad_y, float* grad_x,
                         int64_t n);
void LaunchBinary(BinaryKind kind, CudaBackend::Operand a, CudaBackend::Operand b, float* out, int64_t n);
void LaunchBroadcastBinary(BinaryKind kind, const float* a, const float* b, float* out, const CudaBackend::Strided& s);
void LaunchSumOverBroadcast(const float* x, float* out, const CudaBackend::Strided& s);
void LaunchScaleShift(const float* x, float* out, int64_t n, float scale, float shift);
void LaunchAddInPlace(float* dst, const float* src, int64_t n);
void LaunchToBF16(const float* x, uint16_t* out, int64_t n);
void LaunchSgdUpdate(float* w, const float* g, int64_t n, float lr, float weight_decay);
void LaunchAdamUpdate(float* w, const float* g, float* m, float* v, int64_t n, const CudaBackend::AdamScalars& s);
void LaunchDropoutMask(float* out, int64_t n, uint64_t seed, uint32_t step, uint16_t layer, uint16_t purpose,
                       uint64_t offset, float p, float keep_scale);
// Sums over the middle axis. slices = ReduceAxisSlices(...): 0 runs a thread per output; otherwise `partial` holds
// slices * outer * inner floats for the sliced block sums, added in order afterwards (LaunchSumSlices).
int ReduceAxisSlices(int64_t outer, int64_t n, int64_t inner);
// out[k] = scale * (partial[0 * outputs + k] + partial[1 * outputs + k] + ...), the slices added in order.
void LaunchSumSlices(const float* partial, int64_t slices, int64_t outputs, float scale, float* out);
void LaunchDistanceFinish(float* d, const float* xn, const float* wn, int64_t n, int64_t e);
void LaunchDistanceGradScale(const float* g, const float* dist, float* s, int64_t count);
void LaunchReduceAxis(const float* x, float* out, int64_t outer, int64_t n, int64_t inner, float scale, float* partial,
                      int slices);
void LaunchExpandAxis(const float* g, float* out, int64_t outer, int64_t n, int64_t inner, float scale);

void LaunchSoftmaxForward(const float* x, float* y, int64_t rows, int64_t n, bool log);
void LaunchSoftmaxBackward(const float* y, const float* grad_y, float* grad_x, int64_t rows, int64_t n, bool log);
void LaunchLayerNormForward(const float* x, const float* gamma, const float* beta, float* y, float* stats,
                            int64_t rows, int64_t d, float eps);
void LaunchLayerNormBackward(const float* x, const float* gamma, const float* stats, const float* grad_y,
                             float* grad_x, float* grad_gamma, float* grad_beta, int64_t rows, int64_t d);
void LaunchCrossEntropyForward(const float* logits, const int64_t* targets, float* log_probs, float* loss,
                               int64_t rows, int64_t v, float smoothing, int64_t ignore_index);
void LaunchCrossEntropyBackward(const float* log_probs, const int64_t* targets, float* grad, int64_t rows, int64_t v,
                                float smoothing, int64_t ignore_index, float upstream);

void LaunchGatherRows(const float* x, const int64_t* index, float* out, int64_t m, int64_t width);
void LaunchScatterRows(const float* src, const float* weight, const int64_t* start, const int64_t* source, float* out,
                       int64_t rows, int64_t width);
void LaunchGatherRowsScaled(const float* g, const int64_t* index, const float* weight, float* out, int64_t m,
                            int64_t width);
void LaunchGatherRowDots(const float* g, const int64_t* index, const float* src, float* dots, int64_t m, int64_t width);
void LaunchTopK(const float* x, float* values, int64_t* indices, int64_t rows, int64_t n, int64_t k);
void LaunchGatherLastDim(const float* x, const int64_t* index, float* out, int64_t rows, int64_t n, int64_t k);
void LaunchGatherLastDimBackward(const float* g, const int64_t* index, float* grad_x, int64_t rows, int64_t n,
                                 int64_t k);
void LaunchTranspose(const float* x, float* out, int64_t batch, int64_t r, int64_t c);
void LaunchRandom(float* out, int64_t n, uint64_t seed, uint32_t step, uint16_t layer, uint16_t purpose,
                  uint64_t offset, bool normal, float shift, float scale);

// Depthwise conv (conv.cu). The weight gradient sums positions in `chunks` fixed slices into `partial`
// [chunks, kh * kw * c], then the slices in order (LaunchSumSlices).
void LaunchDepthwiseConvForward(const CudaBackend::DepthwiseConvShape& s, const float* x, const float* weight,
                                float* out);
void LaunchDepthwiseConvBackwardInput(const CudaBackend::DepthwiseConvShape& s, const float* weight,
                                      const float* grad_out, float* grad_x);
void LaunchDepthwiseConvBackwardWeight(const CudaBackend::DepthwiseConvShape& s, const float* x, const float* grad_out,
                                       float* partial, int chunks, float* grad_weight);
int DepthwiseConvWeightChunks(const CudaBackend::DepthwiseConvShape& s);

// Pooling and the max over an axis (pool.cu).
void LaunchPoolForward(const CudaBackend::PoolShape& s, bool max, const float* x, float* out, int64_t* argmax);
void LaunchPoolBackward(const CudaBackend::PoolShape& s, bool max, const int64_t* argmax, const float* grad_out,
                        float* grad_x);
void LaunchMaxAxis(const float* x, float* out, int64_t* argmax, int64_t outer, int64_t n, int64_t inner);
void LaunchMaxAxisBackward(const float* g, const int64_t* argmax, float* grad_x, int64_t outer, int64_t n,
                           int64_t inner);

}  // namespace onemodel::cuda

#endif  // ONEMODEL_CORE_CUDA_KERNELS_H_
