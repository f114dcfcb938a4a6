// The NCCL backend on one GPU (the lent machines have one; multi-rank logic is tested through MPI on the CPU,
// DESIGN §7): a one-rank NCCL group moves device tensors through the same collectives and the expert-parallel
// exchange as the host path, with the same results. Prints SKIPPED without a CUDA build or device.
#include "core/ops/ops.h"
#include "core/testing/cuda_compare.h"
#include "distributed/collectives.h"
#include "distributed/expert_parallel.h"
#include "distributed/nccl_communicator.h"
#include "distributed/self_communicator.h"
#include "gtest/gtest.h"

namespace onemodel::distributed {
namespace {

using testing::ExpectCloseToCpu;
using testing::RandomCpu;

TEST(NcclCommunicatorTest, OneRankCollectivesOnDeviceTensors) {
  SelfCommunicator bootstrap;
  absl::StatusOr<std::unique_ptr<Communicator>> nccl = MakeNcclCommunicator(bootstrap, 0);
  ASSERT_TRUE(nccl.ok()) << nccl.status();
  Communicator& comm = **nccl;
  EXPECT_TRUE(comm.device_buffers());
  EXPECT_EQ(comm.size(), 1);
  const Tensor x = RandomCpu({6, 4}, -1, 1, 1);
  // The sum over one rank, forward and backward.
  Tensor xd = x.To(Device::CUDA()).set_requires_grad(true);
  const Tensor sum = AllReduceSum(comm, xd);
  EXPECT_EQ(sum.ToVector(), x.ToVector());
  ops::SumAll(sum).Backward();
  EXPECT_EQ(xd.grad().ToVector(), std::vector<float>(24, 1.f));
  // Rows to self and back.
  const Tensor rows = AllToAllRows(comm, x.To(Device::CUDA()), {6}, {6});
  EXPECT_EQ(rows.device(), Device::CUDA());
  EXPECT_EQ(rows.ToVector(), x.ToVector());
  // Host-side counts go through the bootstrap.
  int64_t counts[2] = {3, 4};
  ASSERT_TRUE(comm.AllReduceSum(counts, 2).ok());
  EXPECT_EQ(counts[1], 4);
  absl::StatusOr<std::unique_ptr<Communicator>> sub = comm.Split(0, 0, "expert");
  ASSERT_TRUE(sub.ok()) << sub.status();
  EXPECT_TRUE((*sub)->device_buffers());
}

TEST(NcclCommunicatorTest, ExpertParallelOnTheDeviceMatchesTheHost) {
  SelfCommunicator host;
  absl::StatusOr<std::unique_ptr<Communicator>> nccl = MakeNcclCommunicator(host, 0);
  ASSERT_TRUE(nccl.ok()) << nccl.status();
  const Tensor w = RandomCpu({4, 5}, -1, 1, 2);
  const Tensor rows = RandomCpu({10, 4}, -1, 1, 3);
  const std::vector<int64_t> per_expert = {3, 0, 5, 2};
  auto run = [&](Communicator& comm, Device device) {
    const Tensor wd = w.To(device);
    Tensor x = rows.To(device).set_requires_grad(true);
    // Expert j scales the shared projection by j + 1.
    const Tensor y = ExpertParallel(comm, x, per_expert, [&](const Tensor& r, const std::vector<int64_t>& per_local) {
      std::vector<Tensor> parts;
      int64_t at = 0;
      for (size_t j = 0; j < per_local.size(); ++j) {
        if (per_local[j] == 0) continue;
        parts.push_back(ops::Scale(ops::MatMul(ops::Slice(r, at, at + per_local[j]), wd), static_cast<float>(j + 1)));
        at += per_local[j];
      }
      return ops::Concat(parts, 0);
    });
    ops::SumAll(ops::Mul(y, y)).Backward();
    return std::make_pair(y.ToVector(), x.grad().ToVector());
  };
  const auto [y_host, g_host] = run(host, Device::CPU());
  const auto [y_device, g_device] = run(**nccl, Device::CUDA());
  ExpectCloseToCpu(y_device, y_host, 1e-5f, "expert outputs");
  ExpectCloseToCpu(g_device, g_host, 1e-5f, "input gradients");
}

}  // namespace
}  // namespace onemodel::distributed
