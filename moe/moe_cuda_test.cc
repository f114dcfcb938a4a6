// The MoE layer family on the GPU against the CPU: same routing, outputs, auxiliary losses and gradients.
// Prints SKIPPED without a CUDA build or device (tools/gpu_check.sh runs it on a GPU machine).
#include "configs/config.h"
#include "core/ops/ops.h"
#include "core/testing/cuda_compare.h"
#include "gtest/gtest.h"
#include "moe/moe_config.h"
#include "moe/moe_layer.h"

namespace onemodel::moe {
namespace {

using testing::ExpectCloseToCpu;
using testing::RandomCpu;

config::MoeConfig Parse(const std::string& text, int64_t dim) {
  auto e = ParseExperiment("moe { " + text + " }", "test");
  CHECK(e.ok()) << e.status();
  CHECK(ValidateMoeConfig(e->moe(), dim).ok());
  return e->moe();
}

template <typename Layer>
void CompareLayer(const config::MoeConfig& config, int64_t dim, bool training, float tolerance = 1e-4f) {
  Layer cpu(config, dim, 5, 1), gpu(config, dim, 5, 1);
  // Router weights away from their zero start, the same on both.
  auto cpu_params = cpu.NamedParameters(), gpu_params = gpu.NamedParameters();
  for (size_t i = 0; i < cpu_params.size(); ++i) {
    if (cpu_params[i].first.find("router") != std::string::npos) {
      const Tensor w = RandomCpu(cpu_params[i].second.shape(), -1, 1, 30 + i);
      cpu_params[i].second.CopyFrom(w);
      gpu_params[i].second.CopyFrom(w);
    }
  }
  gpu.To(Device::CUDA());
  const Tensor x = RandomCpu({64, dim}, -1, 1, 40);
  Tensor x_cpu = x.Clone().set_requires_grad(true), x_gpu = x.To(Device::CUDA()).set_requires_grad(true);
  const MoeOutput a = cpu.Forward(x_cpu, 3, training), b = gpu.Forward(x_gpu, 3, training);
  ASSERT_EQ(b.y.device(), Device::CUDA());
  ExpectCloseToCpu(b.y.ToVector(), a.y.ToVector(), tolerance, "output");
  ExpectCloseToCpu({b.aux_loss.item()}, {a.aux_loss.item()}, tolerance, "aux loss");
  EXPECT_EQ(b.stats.load, a.stats.load);
  const Tensor r = RandomCpu(a.y.shape(), -1, 1, 41);
  ops::Add(ops::SumAll(ops::Mul(a.y, r)), a.aux_loss).Backward();
  ops::Add(ops::SumAll(ops::Mul(b.y, r.To(Device::CUDA()))), b.aux_loss).Backward();
  ExpectCloseToCpu(x_gpu.grad().ToVector(), x_cpu.grad().ToVector(), tolerance, "input gradient");
  for (size_t i = 0; i < cpu_params.size(); ++i) {
    ExpectCloseToCpu(gpu_params[i].second.grad().ToVector(), cpu_params[i].second.grad().ToVector(), tolerance,
                     "gradient of " + cpu_params[i].first);
  }
}

TEST(MoeCudaTest, RoutersAndLossesMatchCpu) {
  const int64_t d = 32;
  for (const char* text : {"router { kind: NOISY_TOP_K top_k: 2 } load_coef: 0.1 importance_coef: 0.1 z_loss_coef: 0.01",
                           "router { kind: SWITCH top_k: 1 jitter: 0.01 }", "router { kind: GSHARD top_k: 2 }",
                           "router { kind: EXPERT_CHOICE top_k: 2 }", "router { kind: LAPLACE top_k: 2 }",
                           "router { kind: NOISY_TOP_K top_k: 2 } swiglu: true shared_expert: true activation: SILU"}) {
    SCOPED_TRACE(text);
    CompareLayer<MoeLayer>(Parse(std::string("num_experts: 8 hidden: 48 ") + text, d), d, /*training=*/true);
  }
}

TEST(MoeCudaTest, MultiHeadAndHierarchicalMatchCpu) {
  const int64_t d = 32;
  CompareLayer<MultiHeadMoeLayer>(Parse("layer: MH_MOE heads: 4 num_experts: 8 hidden: 16 router { top_k: 2 }", d), d,
                                  true);
  CompareLayer<HierarchicalMoeLayer>(
      Parse("layer: HIERARCHICAL groups: 2 num_experts: 8 hidden: 16 outer_router { top_k: 1 } router { top_k: 2 }", d),
      d, true);
}

// bf16 experts with the router in f32: the same routing, and outputs and gradients within 2e-3 (an f32 hidden
// value one ulp apart on the two devices can round to neighbouring bf16 values before the second product).
TEST(MoeCudaTest, Bf16ExpertsMatchCpu) {
  const int64_t d = 64;
  const ops::MatmulPrecisionScope bf16(ops::MatmulPrecision::kBF16);
  CompareLayer<MoeLayer>(Parse("num_experts: 8 hidden: 128 activation: GELU router { kind: NOISY_TOP_K top_k: 2 }", d),
                         d, /*training=*/true, 2e-3f);
}

}  // namespace
}  // namespace onemodel::moe
