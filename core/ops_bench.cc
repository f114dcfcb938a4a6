// Engine benchmark: matmul against raw cblas_sgemm (2048^3, same run), and forward + backward time and
// achieved bandwidth of layer norm, softmax and gelu at 4096 x 512 and of the audio front end's second conv (3x3
// depthwise, stride 2, 32 utterances x 256 frames x 40 mels x 32 channels), with memcpy bandwidth as reference; the
// stem's fused first layer (PlaneConv3x3Relu into 32 channels) against the same function composed of other ops; the
// optimizer step (AdamW over the default model's 3.03M parameters: reads w, g, m, v, writes w, m, v).
// Run: bazel run -c opt //core:ops_bench   (threads: OMP_NUM_THREADS, default all cores)
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/autograd.h"
#include "core/ops/ops.h"
#include "core/optim.h"
#include "core/rng.h"
#include "core/testing/best_seconds.h"

namespace onemodel {
namespace {

using testing::BestSeconds;

struct BandwidthResult {
  double fwd_ms, bwd_ms, fwd_gbps, bwd_gbps;
};

// Times the op's forward, and its backward node alone. Bytes are the minimum each pass must move:
// forward reads `fwd_tensors_read` tensors of the input size and writes one; backward reads
// `bwd_tensors_read` and writes one (the input gradient; parameter gradients are negligible).
BandwidthResult TimeOp(const std::function<Tensor(const Tensor&)>& op, const Tensor& x, int fwd_tensors_read,
                       int bwd_tensors_read) {
  Tensor leaf = x.Clone().set_requires_grad(true);
  const Tensor grad = RandomNormal(x.shape(), RngKey{7});
  Tensor y;
  const double fwd = BestSeconds(20, [&] { y = op(leaf); });
  const double bwd = BestSeconds(20, [&] { y.grad_fn()->backward(grad, y); });
  const double bytes = static_cast<double>(x.nbytes());
  return {fwd * 1e3, bwd * 1e3, bytes * (fwd_tensors_read + 1) / fwd / 1e9, bytes * (bwd_tensors_read + 1) / bwd / 1e9};
}

void Run() {
  const int threads = omp_get_max_threads();
  std::printf("threads: %d (OpenMP and OpenBLAS share one pool: %s)\n", threads, openblas_get_config());

  // GEMM: 2048^3.
  const int64_t n = 2048;
  const Tensor a = RandomNormal({n, n}, RngKey{1});
  const Tensor b = RandomNormal({n, n}, RngKey{2});
  Tensor c = Tensor::Empty({n, n});
  const double flops = 2.0 * n * n * n;
  // Interleaved rounds, best of each, so clock and thermal drift hit both sides alike.
  double raw = 1e30, ours = 1e30, ours_tt = 1e30;
  for (int round = 0; round < 4; ++round) {
    raw = std::min(raw, BestSeconds(2, [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.f, a.data<float>(), n, b.data<float>(), n,
                  0.f, c.data<float>(), n);
    }));
    ours = std::min(ours, BestSeconds(2, [&] { c = ops::MatMul(a, b); }));
    ours_tt = std::min(ours_tt, BestSeconds(2, [&] { c = ops::MatMul(a, b, true, true); }));
  }
  const double sgemm_gflops = flops / raw / 1e9, ours_gflops = flops / ours / 1e9;
  std::printf("gemm 2048^3: raw cblas_sgemm %.1f GFLOP/s, ops::MatMul %.1f GFLOP/s (ratio %.3f), "
              "MatMul(a^T, b^T) %.1f GFLOP/s\n",
              sgemm_gflops, ours_gflops, ours_gflops / sgemm_gflops, flops / ours_tt / 1e9);

  // Bandwidth reference: memcpy of the same 4096 x 512 f32 tensor.
  const Tensor x = RandomNormal({4096, 512}, RngKey{3});
  Tensor dst = Tensor::Empty(x.shape());
  const double copy = BestSeconds(20, [&] { std::memcpy(dst.raw_data(), x.raw_data(), x.nbytes()); });
  const double memcpy_gbps = 2.0 * x.nbytes() / copy / 1e9;
  std::printf("memcpy 4096x512 f32: %.1f GB/s (read + write)\n", memcpy_gbps);

  const Tensor gamma = Tensor::Full({512}, 1.f), beta = Tensor::Zeros({512});
  const BandwidthResult ln = TimeOp([&](const Tensor& t) { return ops::LayerNorm(t, gamma, beta); }, x, 1, 2);
  const BandwidthResult sm = TimeOp([](const Tensor& t) { return ops::Softmax(t); }, x, 1, 2);
  const BandwidthResult ge = TimeOp([](const Tensor& t) { return ops::Gelu(t); }, x, 1, 3);
  // The audio stem's first layer, 32 utterances x 256 frames x 40 mels into 32 channels, 8 of the utterances half
  // padding, fused and composed (9-channel intermediates as the stem had before the op; CUDA runs it): the forward,
  // and forward + backward through autograd (the composition's backward is several nodes) from the sum of the
  // output (that sum's passes, the same on both sides, included).
  const Tensor plane = RandomNormal({32, 256, 40}, RngKey{4});
  const Tensor stem_w = RandomNormal({3, 3, 32}, RngKey{13}).set_requires_grad(true);
  const Tensor stem_b = RandomNormal({32}, RngKey{14}).set_requires_grad(true);
  std::vector<int64_t> frames(32, 256);
  for (int64_t i = 0; i < 8; ++i) frames[i] = 128;
  struct StemTimes {
    double fwd_ms, fwd_bwd_ms;
  };
  const auto time_stem = [&](const auto& stem) {
    const double fwd = BestSeconds(10, [&] { stem(plane, stem_w, stem_b, frames); });
    const double both = BestSeconds(10, [&] { RunBackward(ops::SumAll(stem(plane, stem_w, stem_b, frames))); });
    return StemTimes{fwd * 1e3, both * 1e3};
  };
  const StemTimes stem = time_stem(ops::PlaneConv3x3Relu), composed = time_stem(ops::PlaneConv3x3ReluComposed);
  // The audio stem's second conv, 32 channels over 40 mel columns at stride 2: the default's costliest depthwise
  // conv. Bandwidth counts the input's size, as for the others.
  const Tensor wide_in = RandomNormal({32, 256, 40, 32}, RngKey{11}), wide_w = RandomNormal({3, 3, 32}, RngKey{12});
  ops::Conv2dOptions halving;
  halving.pad_top = halving.pad_bottom = halving.pad_left = halving.pad_right = 1;
  halving.stride_h = halving.stride_w = 2;
  const BandwidthResult dw32 =
      TimeOp([&](const Tensor& t) { return ops::DepthwiseConv2d(t, wide_w, halving); }, wide_in, 1, 2);
  // Attention's padding mask: scores [B, Tq, Tk] + mask [B, 1, Tk], repeated over the query positions.
  const Tensor scores = RandomNormal({32, 128, 128}, RngKey{6}), mask = RandomNormal({32, 1, 128}, RngKey{8});
  const BandwidthResult ma = TimeOp([&](const Tensor& t) { return ops::Add(t, mask); }, scores, 1, 0);
  // A padding mask per position, [B, T, 1], zeroing states [B, T, d] (the conv blocks and the audio front end).
  const Tensor states = RandomNormal({32, 256, 128}, RngKey{9}), keep = RandomNormal({32, 256, 1}, RngKey{10});
  const BandwidthResult mm = TimeOp([&](const Tensor& t) { return ops::Mul(t, keep); }, states, 1, 1);
  // The update step of every training step: AdamW over the default model's parameters, as one tensor.
  const int64_t params = 3029762;
  Tensor weights = RandomNormal({params}, RngKey{15}).set_requires_grad(true);
  weights.AccumulateGrad(RandomNormal({params}, RngKey{16}));
  AdamOptions adam_options;
  adam_options.weight_decay = 0.3f;
  adam_options.decoupled_weight_decay = true;
  Adam adam({{"weights", weights}}, adam_options);
  const double adam_ms = BestSeconds(20, [&] { adam.Step(1e-3f); }) * 1e3;
  const double adam_gbps = 7.0 * params * sizeof(float) / adam_ms / 1e6;
  const struct {
    const char* name;
    const char* shape;
    BandwidthResult r;
  } timed[] = {{"layer_norm", "4096x512", ln}, {"softmax", "4096x512", sm}, {"gelu", "4096x512", ge},
               {"dwconv3x3/2", "32x256x40x32", dw32}};
  for (const auto& [name, shape, r] : timed) {
    std::printf("%-10s %s: forward %.3f ms (%.1f GB/s, %.2f of memcpy), backward %.3f ms (%.1f GB/s, %.2f of memcpy)\n",
                name, shape, r.fwd_ms, r.fwd_gbps, r.fwd_gbps / memcpy_gbps, r.bwd_ms, r.bwd_gbps, r.bwd_gbps / memcpy_gbps);
  }
  std::printf("stem       32x256x40 -> 32x256x40x32: forward, forward + backward: fused %.3f, %.3f ms; "
              "composed %.3f, %.3f ms (%.2fx)\n", stem.fwd_ms, stem.fwd_bwd_ms, composed.fwd_ms, composed.fwd_bwd_ms,
              composed.fwd_bwd_ms / stem.fwd_bwd_ms);
  // Its backward passes the gradient through: the mask takes none.
  std::printf("mask_add   32x128x128 + 32x1x128: forward %.3f ms (%.1f GB/s, %.2f of memcpy)\n", ma.fwd_ms, ma.fwd_gbps,
              ma.fwd_gbps / memcpy_gbps);
  std::printf("mask_mul   32x256x128 * 32x256x1: forward %.3f ms (%.1f GB/s, %.2f of memcpy), backward %.3f ms (%.1f "
              "GB/s, %.2f of memcpy)\n", mm.fwd_ms, mm.fwd_gbps, mm.fwd_gbps / memcpy_gbps, mm.bwd_ms, mm.bwd_gbps,
              mm.bwd_gbps / memcpy_gbps);
  std::printf("adamw      %lld parameters: step %.3f ms (%.1f GB/s, %.2f of memcpy)\n", static_cast<long long>(params),
              adam_ms, adam_gbps, adam_gbps / memcpy_gbps);
  std::printf(
      "BENCH ops gemm_ratio=%.3f gemm_gflops=%.1f sgemm_gflops=%.1f memcpy_gbps=%.1f "
      "layer_norm_fwd_ms=%.3f layer_norm_bwd_ms=%.3f layer_norm_fwd_gbps=%.1f layer_norm_bwd_gbps=%.1f "
      "softmax_fwd_ms=%.3f softmax_bwd_ms=%.3f softmax_fwd_gbps=%.1f softmax_bwd_gbps=%.1f "
      "gelu_fwd_ms=%.3f gelu_bwd_ms=%.3f gelu_fwd_gbps=%.1f gelu_bwd_gbps=%.1f "
      "stem_fwd_ms=%.3f stem_fwd_bwd_ms=%.3f stem_speedup=%.2f dwconv32_fwd_ms=%.3f "
      "dwconv32_bwd_ms=%.3f mask_add_fwd_ms=%.3f "
      "mask_add_fwd_gbps=%.1f mask_mul_fwd_ms=%.3f mask_mul_bwd_ms=%.3f adamw_ms=%.3f adamw_gbps=%.1f threads=%d\n",
      ours_gflops / sgemm_gflops, ours_gflops, sgemm_gflops, memcpy_gbps, ln.fwd_ms, ln.bwd_ms, ln.fwd_gbps,
      ln.bwd_gbps, sm.fwd_ms, sm.bwd_ms, sm.fwd_gbps, sm.bwd_gbps, ge.fwd_ms, ge.bwd_ms, ge.fwd_gbps, ge.bwd_gbps,
      stem.fwd_ms, stem.fwd_bwd_ms, composed.fwd_bwd_ms / stem.fwd_bwd_ms, dw32.fwd_ms, dw32.bwd_ms, ma.fwd_ms,
      ma.fwd_gbps, mm.fwd_ms, mm.bwd_ms, adam_ms, adam_gbps, threads);
}

}  // namespace
}  // namespace onemodel

int main() {
  onemodel::Run();
  return 0;
}
