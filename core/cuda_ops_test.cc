// CUDA kernels against the CPU implementation (the reference). Without a CUDA build or device it prints
// SKIPPED and passes, so it can run in every test suite; tools/gpu_check.sh runs it where a GPU exists.
#include <cmath>
#include <functional>
#include <string>
#include <cstdio>
#include <memory>
#include <random>

#include "core/autograd.h"
#include "core/cuda_backend.h"
#include "core/ops/ops.h"
#include "core/optim.h"
#include "core/rng.h"
#include "core/testing/cuda_compare.h"
#include "gtest/gtest.h"

namespace onemodel {
namespace {

using testing::CompareOnDevices;
using testing::RandomCpu;

void ExpectClose(const std::vector<float>& cuda, const std::vector<float>& cpu, const char* what) {
  testing::ExpectCloseToCpu(cuda, cpu, 1e-5f, what);
}

TEST(CudaOpsTest, CopiesRoundTrip) {
  const Tensor host = RandomCpu({3, 1000}, -1, 1, 1);
  const Tensor device = host.To(Device::CUDA());
  EXPECT_EQ(device.device(), Device::CUDA());
  EXPECT_EQ(device.ToVector(), host.ToVector());
  EXPECT_EQ(Tensor::Zeros({5}, DType::kF32, Device::CUDA()).ToVector(), std::vector<float>(5, 0.f));
}

// Uploads are staged in pinned blocks and queued (core/cuda/host_uploads.h): the host buffer may change or go as
// soon as To() returns, more than the staging cap (256 MiB) in flight makes uploads wait for the oldest, and one
// larger than a block (64 MiB) is copied synchronously. Every tensor must arrive as it was at its upload.
TEST(CudaOpsTest, UploadsArriveAsTheyWereWhenQueued) {
  CudaBackend& cuda = RequireCudaBackend();
  const CudaBackend::MemoryStats before = cuda.Memory();
  std::vector<Tensor> device;
  Tensor host = Tensor::Empty({1 << 20});  // 4 MiB, reused for every upload
  constexpr int kUploads = 80;             // 320 MiB in all: past the cap
  for (int i = 0; i < kUploads; ++i) {
    host.Fill(static_cast<float>(i));
    device.push_back(host.To(Device::CUDA()));
  }
  const Tensor large = RandomCpu({17 << 20}, -1, 1, 3);  // 68 MiB
  const Tensor large_device = large.To(Device::CUDA());
  for (int i = 0; i < kUploads; i += 7) {
    const std::vector<float> got = device[i].ToVector();
    EXPECT_EQ(got.front(), static_cast<float>(i));
    EXPECT_EQ(got.back(), static_cast<float>(i));
  }
  EXPECT_EQ(large_device.ToVector(), large.ToVector());
  const CudaBackend::MemoryStats after = cuda.Memory();
  EXPECT_EQ(after.host_uploads - before.host_uploads, kUploads);
}

TEST(CudaOpsTest, UnaryForwardAndBackwardMatchCpu) {
  const std::pair<UnaryKind, std::pair<float, float>> cases[] = {
      {UnaryKind::kRelu, {-3, 3}},     {UnaryKind::kGelu, {-4, 4}},     {UnaryKind::kSilu, {-6, 6}},
      {UnaryKind::kCube, {-2, 2}},     {UnaryKind::kSoftplus, {-8, 8}}, {UnaryKind::kSigmoid, {-8, 8}},
      {UnaryKind::kTanh, {-4, 4}},     {UnaryKind::kExp, {-4, 4}},      {UnaryKind::kLog, {0.1f, 5}},
      {UnaryKind::kNormalCdf, {-4, 4}},
  };
  for (const auto& [kind, range] : cases) {
    SCOPED_TRACE(static_cast<int>(kind));
    // Sizes that are not a multiple of the block, and one that needs the grid-stride loop.
    for (int64_t n : {1, 1000, 70000 * 257}) {
      Tensor x_cpu = RandomCpu({n}, range.first, range.second, static_cast<uint32_t>(n));
      Tensor x_cuda = x_cpu.To(Device::CUDA());
      x_cpu.set_requires_grad(true);
      x_cuda.set_requires_grad(true);
      const Tensor y_cpu = ops::Unary(x_cpu, kind);
      const Tensor y_cuda = ops::Unary(x_cuda, kind);
      ExpectClose(y_cuda.ToVector(), y_cpu.ToVector(), "forward");
      // Backward with an upstream gradient of ones (the CUDA path: Sum is CPU-only, so call the node).
      const Tensor ones = Tensor::Full({n}, 1.f);
      const Tensor g_cpu = y_cpu.grad_fn()->backward(ones, y_cpu)[0];
      const Tensor g_cuda = y_cuda.grad_fn()->backward(ones.To(Device::CUDA()), y_cuda)[0];
      ExpectClose(g_cuda.ToVector(), g_cpu.ToVector(), "backward");
    }
  }
}

TEST(CudaOpsTest, BroadcastBinaryOps) {
  const std::pair<Shape, Shape> shapes[] = {{{4, 33}, {4, 33}}, {{4, 33}, {33}}, {{33}, {4, 33}},
                                            {{4, 33}, {4, 1}}, {{4, 1}, {4, 33}}, {{3, 4, 5}, {}},
                                            // Leading 1s (a suffix), then general broadcasting both ways.
                                            {{4, 1, 33}, {1, 1, 33}}, {{4, 9, 9}, {4, 1, 9}}, {{3, 1, 5}, {1, 4, 1}},
                                            {{2, 1, 3, 1}, {5, 1, 4}}};
  for (const auto& [sa, sb] : shapes) {
    SCOPED_TRACE(ShapeToString(sa) + " " + ShapeToString(sb));
    const Tensor a = RandomCpu(sa, 0.5f, 2, 1), b = RandomCpu(sb, 0.5f, 2, 2);
    CompareOnDevices({a, b}, [](const std::vector<Tensor>& in) { return ops::Add(in[0], in[1]); });
    CompareOnDevices({a, b}, [](const std::vector<Tensor>& in) { return ops::Sub(in[0], in[1]); });
    CompareOnDevices({a, b}, [](const std::vector<Tensor>& in) { return ops::Mul(in[0], in[1]); });
    CompareOnDevices({a, b}, [](const std::vector<Tensor>& in) { return ops::Div(in[0], in[1]); });
  }
  const Tensor x = RandomCpu({7, 9}, -1, 1, 3);
  CompareOnDevices({x}, [](const std::vector<Tensor>& in) { return ops::Scale(ops::AddScalar(in[0], 0.5f), -3.f); });
}

TEST(CudaOpsTest, Reductions) {
  const Tensor x = RandomCpu({3, 5, 7}, -1, 1, 4);
  for (int axis = 0; axis < 3; ++axis) {
    CompareOnDevices({x}, [axis](const std::vector<Tensor>& in) { return ops::Sum(in[0], axis); });
    CompareOnDevices({x}, [axis](const std::vector<Tensor>& in) { return ops::Mean(in[0], axis, true); });
  }
  // Long sums with few outputs run in slices (another summation order than the CPU's: 1e-4).
  CompareOnDevices({RandomCpu({300000}, 0, 1, 5)}, [](const std::vector<Tensor>& in) { return ops::SumAll(in[0]); },
                   1e-4f);
  CompareOnDevices({RandomCpu({20000, 3}, 0, 1, 6)}, [](const std::vector<Tensor>& in) { return ops::Mean(in[0], 0); },
                   1e-4f);
}

TEST(CudaOpsTest, MatMulsThroughCublas) {
  for (int flags = 0; flags < 4; ++flags) {
    const bool ta = flags & 1, tb = flags & 2;
    const Tensor a = RandomCpu(ta ? Shape{64, 37} : Shape{37, 64}, -1, 1, 5);
    const Tensor b = RandomCpu(tb ? Shape{29, 64} : Shape{64, 29}, -1, 1, 6);
    CompareOnDevices({a, b}, [ta, tb](const std::vector<Tensor>& in) { return ops::MatMul(in[0], in[1], ta, tb); });
  }
  for (int flags = 0; flags < 4; ++flags) {  // one strided-batched call for the whole batch
    const bool ta = flags & 1, tb = flags & 2;
    const Tensor a = RandomCpu(ta ? Shape{3, 16, 8} : Shape{3, 8, 16}, -1, 1, 7);
    const Tensor b = RandomCpu(tb ? Shape{3, 5, 16} : Shape{3, 16, 5}, -1, 1, 8);
    CompareOnDevices({a, b},
                     [ta, tb](const std::vector<Tensor>& in) { return ops::BatchedMatMul(in[0], in[1], ta, tb); });
  }
  const std::vector<int64_t> sizes = {5, 0, 11, 3};
  CompareOnDevices({RandomCpu({19, 12}, -1, 1, 9), RandomCpu({4, 12, 10}, -1, 1, 10)},
                   [&](const std::vector<Tensor>& in) { return ops::GroupedMatMul(in[0], in[1], sizes); });
}

// bf16 mixed precision: the same bf16 operands on both (the cast kernel rounds as the CPU does), so only the
// f32 summation order differs: within 1e-5, where f32 against bf16 differs by ~1e-3. The large product runs on
// the tensor cores.
TEST(CudaOpsTest, Bf16ProductsMatchTheCpuRounding) {
  const auto bf16 = [](std::function<Tensor(const std::vector<Tensor>&)> op) {
    return [op](const std::vector<Tensor>& in) {
      const ops::MatmulPrecisionScope scope(ops::MatmulPrecision::kBF16);
      return op(in);
    };
  };
  for (int flags = 0; flags < 4; ++flags) {
    const bool ta = flags & 1, tb = flags & 2;
    const Tensor a = RandomCpu(ta ? Shape{64, 37} : Shape{37, 64}, -1, 1, 5);
    const Tensor b = RandomCpu(tb ? Shape{29, 64} : Shape{64, 29}, -1, 1, 6);
    CompareOnDevices({a, b}, bf16([ta, tb](const std::vector<Tensor>& in) { return ops::MatMul(in[0], in[1], ta, tb); }));
  }
  // An aligned product of a new shape goes through cuBLASLt (core/cuda/lt_gemm.h), forward and backward.
  const int64_t classic = RequireCudaBackend().Memory().classic_gemms;
  CompareOnDevices({RandomCpu({300, 1024}, -1, 1, 7), RandomCpu({1024, 256}, -1, 1, 8)},
                   bf16([](const std::vector<Tensor>& in) { return ops::MatMul(in[0], in[1]); }));
  EXPECT_EQ(RequireCudaBackend().Memory().classic_gemms, classic);
  CompareOnDevices({RandomCpu({3, 8, 16}, -1, 1, 7), RandomCpu({3, 5, 16}, -1, 1, 8)},
                   bf16([](const std::vector<Tensor>& in) { return ops::BatchedMatMul(in[0], in[1], false, true); }));
  const std::vector<int64_t> sizes = {50, 0, 110, 36};
  for (bool tw : {false, true}) {
    CompareOnDevices({RandomCpu({196, 128}, -1, 1, 9), RandomCpu(tw ? Shape{4, 96, 128} : Shape{4, 128, 96}, -1, 1, 10)},
                     bf16([&](const std::vector<Tensor>& in) { return ops::GroupedMatMul(in[0], in[1], sizes, tw); }));
  }
  // The cast itself, NaN and ties included.
  const std::vector<float> values = {1.f, 1.00390625f, 1.01171875f, -3.14159f, 1e-40f, 65504.f, std::nanf("")};
  const Tensor in = Tensor::FromVector(values, {7}).To(Device::CUDA());
  Tensor out = Tensor::Empty({7}, DType::kBF16, Device::CUDA());
  RequireCudaBackend().ToBF16(static_cast<const float*>(in.raw_data()), static_cast<uint16_t*>(out.raw_data()), 7);
  const std::vector<float> got = out.ToVector();
  for (size_t i = 0; i < values.size(); ++i) {
    const float want = BF16ToFloat(FloatToBF16(values[i]));
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got[i]));
    } else {
      EXPECT_EQ(got[i], want) << values[i];
    }
  }
}

TEST(CudaOpsTest, RowOps) {
  const Tensor x = RandomCpu({6, 300}, -3, 3, 11);
  CompareOnDevices({x}, [](const std::vector<Tensor>& in) { return ops::Softmax(in[0]); });
  CompareOnDevices({x}, [](const std::vector<Tensor>& in) { return ops::LogSoftmax(in[0]); });
  CompareOnDevices({x, RandomCpu({300}, 0.5f, 1.5f, 12), RandomCpu({300}, -1, 1, 13)},
                   [](const std::vector<Tensor>& in) { return ops::LayerNorm(in[0], in[1], in[2]); });
  const Tensor targets = Tensor::FromIndices({3, -100, 299, 0, 17, 5}, {6});
  for (float smoothing : {0.f, 0.1f}) {
    CompareOnDevices({x}, [&](const std::vector<Tensor>& in) {
      return ops::CrossEntropy(in[0], in[0].device().is_cpu() ? targets : targets.To(Device::CUDA()), smoothing);
    });
  }
}

TEST(CudaOpsTest, IndexingOps) {
  const Tensor x = RandomCpu({10, 33}, -1, 1, 20);
  const Tensor index = Tensor::FromIndices({3, 0, 3, 9, 1, 3, 7}, {7});
  CompareOnDevices({x}, [&](const std::vector<Tensor>& in) { return ops::IndexSelect(in[0], index); });
  CompareOnDevices({RandomCpu({7, 33}, -1, 1, 21)},
                   [&](const std::vector<Tensor>& in) { return ops::ScatterAddRows(in[0], index, 12); });
  CompareOnDevices({RandomCpu({7, 33}, -1, 1, 22), RandomCpu({7}, 0, 1, 23)}, [&](const std::vector<Tensor>& in) {
    return ops::WeightedScatterAddRows(in[0], in[1], index, 12);
  });
  const Tensor logits = RandomCpu({50, 8}, -2, 2, 24);
  CompareOnDevices({logits}, [](const std::vector<Tensor>& in) { return ops::TopK(in[0], 3).values; });
  EXPECT_EQ(ops::TopK(logits.To(Device::CUDA()), 3).indices.ToIndices(), ops::TopK(logits, 3).indices.ToIndices());
  const Tensor cols = Tensor::FromIndices({1, 1, 0, 7, 2, 5}, {2, 3});
  CompareOnDevices({RandomCpu({2, 8}, -1, 1, 25)},
                   [&](const std::vector<Tensor>& in) { return ops::GatherLastDim(in[0], cols); });
  CompareOnDevices({RandomCpu({3, 40, 37}, -1, 1, 26)}, [](const std::vector<Tensor>& in) { return ops::TransposeLast2(in[0]); });
  CompareOnDevices({RandomCpu({3, 17, 4, 40}, -1, 1, 29)}, [](const std::vector<Tensor>& in) { return ops::SwapAxes12(in[0]); });
  for (int axis = 0; axis < 3; ++axis) {
    CompareOnDevices({RandomCpu({3, 4, 5}, -1, 1, 27), RandomCpu({3, 4, 5}, -1, 1, 28)},
                     [axis](const std::vector<Tensor>& in) {
                       return ops::Narrow(ops::Concat({in[0], in[1]}, axis), axis, 1, 4);
                     });
  }
}

TEST(CudaOpsTest, CounterRngDrawsTheSameNumbersOnBothDevices) {
  const RngKey key{7, 3, 2, 1};
  EXPECT_EQ(RandomUniform({1000}, key, -1, 2, 5, Device::CUDA()).ToVector(), RandomUniform({1000}, key, -1, 2, 5).ToVector());
  testing::ExpectCloseToCpu(RandomNormal({1000}, key, 0, 1, 9, Device::CUDA()).ToVector(),
                            RandomNormal({1000}, key, 0, 1, 9).ToVector(), 1e-5f, "normal");
}

// Three steps of a two-layer MLP with dropout and gradient clipping on the same data, through SGD and both
// kinds of Adam: the same losses, gradient norms and weights on both devices.
TEST(CudaOpsTest, MlpTrainingStepsMatchCpu) {
  const Tensor x = RandomCpu({32, 20}, -1, 1, 14);
  std::vector<int64_t> labels(32);
  for (int i = 0; i < 32; ++i) labels[i] = i % 5;
  const Tensor y = Tensor::FromIndices(labels, {32});
  using MakeOptimizer = std::function<std::unique_ptr<Optimizer>(NamedTensors)>;
  auto train = [&](Device device, const MakeOptimizer& make) {
    Tensor w1 = RandomCpu({20, 64}, -0.3f, 0.3f, 15).To(device).set_requires_grad(true);
    Tensor b1 = Tensor::Zeros({64}).To(device).set_requires_grad(true);
    Tensor w2 = RandomCpu({64, 5}, -0.3f, 0.3f, 16).To(device).set_requires_grad(true);
    std::unique_ptr<Optimizer> optimizer = make({{"w1", w1}, {"b1", b1}, {"w2", w2}});
    std::vector<float> trace;
    for (uint32_t step = 0; step < 3; ++step) {
      optimizer->ZeroGrad();
      Tensor h = ops::Gelu(ops::BiasAdd(ops::MatMul(x.To(device), w1), b1));
      h = ops::Dropout(h, 0.25f, RngKey{9, step, 1, 2}, true);
      const Tensor loss = ops::CrossEntropy(ops::MatMul(h, w2), y.To(device), 0.1f);
      loss.Backward();
      trace.push_back(ClipGradNorm({w1, b1, w2}, 0.05f));
      optimizer->Step(0.05f);
      trace.push_back(loss.item());
    }
    for (const Tensor& w : {w1, b1, w2}) {
      const std::vector<float> v = w.ToVector();
      trace.insert(trace.end(), v.begin(), v.end());
    }
    return trace;
  };
  const std::vector<std::pair<const char*, MakeOptimizer>> optimizers = {
      {"sgd", [](NamedTensors p) { return std::make_unique<Sgd>(std::move(p), SgdOptions{}); }},
      {"adam", [](NamedTensors p) { return std::make_unique<Adam>(std::move(p), AdamOptions{0.9f, 0.98f, 1e-8f, 0.01f}); }},
      {"adamw", [](NamedTensors p) {
         return std::make_unique<Adam>(std::move(p), AdamOptions{0.9f, 0.999f, 1e-8f, 0.1f, true});
       }}};
  for (const auto& [name, make] : optimizers) {
    testing::ExpectCloseToCpu(train(Device::CUDA(), make), train(Device::CPU(), make), 1e-5f, name);
  }
}

// Depthwise convolutions (the trunk's separable conv steps and the modality stems): strides, dilation,
// asymmetric padding, causal 1-D, one channel and channel counts that are not a multiple of 32.
TEST(CudaOpsTest, DepthwiseConvolutionsMatchCpu) {
  ops::Conv2dOptions strided;
  strided.stride_h = strided.stride_w = 2;
  strided.pad_top = strided.pad_left = 1;
  strided.pad_bottom = 0;
  strided.pad_right = 1;
  ops::Conv2dOptions dilated;
  dilated.dilation_h = 2;
  dilated.dilation_w = 3;
  dilated.pad_top = dilated.pad_bottom = 2;
  dilated.pad_left = dilated.pad_right = 3;
  for (const auto& [options, channels] : {std::pair{strided, int64_t{37}}, std::pair{dilated, int64_t{1}},
                                          std::pair{ops::Conv2dOptions{}, int64_t{64}}}) {
    CompareOnDevices({RandomCpu({3, 9, 11, channels}, -1, 1, 50), RandomCpu({3, 3, channels}, -1, 1, 51)},
                     [o = options](const std::vector<Tensor>& in) { return ops::DepthwiseConv2d(in[0], in[1], o); });
  }
  ops::Conv1dOptions causal;
  causal.causal = true;
  causal.dilation = 4;
  CompareOnDevices({RandomCpu({2, 40, 48}, -1, 1, 52), RandomCpu({3, 48}, -1, 1, 53), RandomCpu({48, 24}, -1, 1, 54),
                    RandomCpu({24}, -1, 1, 55)},
                   [&](const std::vector<Tensor>& in) { return ops::SeparableConv1d(in[0], in[1], in[2], in[3], causal); });
  // Many positions per weight: the weight gradient sums 50,000 products in slices, in another order than the
  // CPU's, so its f32 rounding differs by about sqrt(50,000) ulps: 1e-4.
  CompareOnDevices({RandomCpu({64, 28, 28, 32}, -1, 1, 56), RandomCpu({3, 3, 32}, -1, 1, 57)},
                   [](const std::vector<Tensor>& in) { return ops::DepthwiseConv2d(in[0], in[1], {}); }, 1e-4f);
}

// Pooling: overlapping windows (an input in several windows: the backward adds their gradients), padding (not a max,
// not counted in an average), 1-D; and the max over each axis, with ties (the first index wins on both devices).
TEST(CudaOpsTest, PoolingAndMaxMatchCpu) {
  ops::Pool2dOptions overlapping{3, 2, 2, 1, 1, 0};
  for (const ops::Pool2dOptions& o : {ops::Pool2dOptions{}, overlapping}) {
    const Tensor x = RandomCpu({2, 9, 7, 37}, -1, 1, 80);
    CompareOnDevices({x}, [o](const std::vector<Tensor>& in) { return ops::MaxPool2d(in[0], o); });
    CompareOnDevices({x}, [o](const std::vector<Tensor>& in) { return ops::AvgPool2d(in[0], o); });
  }
  CompareOnDevices({RandomCpu({3, 20, 8}, -1, 1, 81)},
                   [](const std::vector<Tensor>& in) { return ops::MaxPool1d(in[0], 4, 2, 1); });
  CompareOnDevices({RandomCpu({3, 20, 8}, -1, 1, 82)},
                   [](const std::vector<Tensor>& in) { return ops::AvgPool1d(in[0], 4, 2, 1); });
  const Tensor x = RandomCpu({4, 6, 5}, -1, 1, 83);
  for (int axis = 0; axis < 3; ++axis) {
    CompareOnDevices({x}, [axis](const std::vector<Tensor>& in) { return ops::Max(in[0], axis, axis == 1); });
  }
  CompareOnDevices({Tensor::FromVector({1, 3, 3, 2, 0, 0}, {2, 3})},
                   [](const std::vector<Tensor>& in) { return ops::Max(in[0], 1); });
}

TEST(CudaOpsTest, PairwiseDistancesMatchCpu) {
  CompareOnDevices({RandomCpu({37, 24}, -1, 1, 70), RandomCpu({8, 24}, -1, 1, 71)},
                   [](const std::vector<Tensor>& in) { return ops::PairwiseL2(in[0], in[1]); });
}

TEST(CudaOpsTest, DropoutDrawsTheSameMaskOnBothDevices) {
  const Tensor x = RandomCpu({50, 70}, -1, 1, 60);
  const RngKey key{3, 4, 5, 6};
  EXPECT_EQ(ops::Dropout(x.To(Device::CUDA()), 0.3f, key, true, 11).ToVector(),
            ops::Dropout(x, 0.3f, key, true, 11).ToVector());
}

}  // namespace
}  // namespace onemodel
