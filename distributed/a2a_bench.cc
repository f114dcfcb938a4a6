// The expert-parallel MoE layer step at EP = 2 against one rank at the same global batch, and the dispatcher's
// all-to-all against raw MPI_Alltoallv of the same bytes, in the same run.
//   bazel run -c opt //distributed:a2a_bench      (starts itself under `mpirun -np 2` when not under MPI)
// Step: T = 8192 tokens (global), d = 512, d_ff = 1024, E = 8, top-2, dropless, forward + backward + the EP x DP
// gradient sync, one thread per rank (2 ranks on 2 cores; the 1-rank step also gets one thread). A barrier before
// each exchange separates waiting for the slower rank (routing imbalance) from the exchange itself.
// Last line: BENCH a2a ratio_to_raw=<raw MPI_Alltoallv time of the step's exchanges / the dispatcher's all-to-all
//            time (count exchange, payloads out and back, forward and backward)>
//            ep2_over_ep1=<EP=2 step time / 1-rank step time>.
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string>

#include "configs/config.h"
#include "core/ops/ops.h"
#include "core/rng.h"
#include "distributed/collectives.h"
#include "distributed/mpi_communicator.h"
#include "distributed/timed_communicator.h"
#include "moe/moe_layer.h"

namespace onemodel::distributed {
namespace {

constexpr int64_t kTokens = 8192, kDim = 512, kHidden = 1024;
constexpr int kWarmup = 2, kRuns = 7;

double Now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Run() {
  Communicator& world = MpiWorld();
  const int n = world.size(), r = world.rank();
  omp_set_num_threads(1);
  absl::StatusOr<config::Experiment> c = ParseExperiment(
      "moe { num_experts: 8 hidden: 1024 load_balance_coef: 0 z_loss_coef: 0 "
      "router { kind: NOISY_TOP_K top_k: 2 noise: false capacity_factor_train: 0 } }", "a2a_bench");
  CHECK(c.ok());
  const Tensor x = RandomNormal({kTokens, kDim}, RngKey{5});
  const Tensor w = RandomNormal({kTokens, kDim}, RngKey{6}, 0.f, 0.01f);

  // One rank, the whole batch (rank 0 alone; the others wait at the barrier).
  std::vector<double> single;
  if (r == 0) {
    moe::MoeLayer layer(c->moe(), kDim, 1, 1);
    for (int i = 0; i < kWarmup + kRuns; ++i) {
      const double start = Now();
      layer.ZeroGrad();
      ops::SumAll(ops::Mul(layer.Forward(x, i + 1, true).y, w)).Backward();
      if (i >= kWarmup) single.push_back(Now() - start);
    }
  }
  CHECK(world.Barrier().ok());

  // EP = world: each rank its shard of tokens and E / n experts.
  TimedCommunicator timed(world);
  absl::StatusOr<ProcessGroups> groups = MakeProcessGroups(timed, n);
  CHECK(groups.ok()) << groups.status();
  TimedCommunicator timed_expert(*groups->expert, /*separate_waits=*/true);
  moe::MoeLayer layer(c->moe(), kDim, 1, 1, {&timed_expert, &timed});
  const Tensor xs = ops::Slice(x, kTokens * r / n, kTokens * (r + 1) / n), ws = ops::Slice(w, kTokens * r / n, kTokens * (r + 1) / n);
  // After each step, raw MPI_Alltoallv replays that step's exchanges (same counts between the same ranks, each
  // after an untimed barrier as the dispatcher's) from buffers allocated once: the reference, in the same run.
  // The buffers come from the same allocator as tensors (core/host_allocator: huge pages for large blocks).
  Tensor send = Tensor::Zeros({1}), recv = Tensor::Zeros({1});
  auto replay = [&](const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>>& exchanges) {
    for (const auto& [sc, rc] : exchanges) {
      const int64_t most = std::max(std::accumulate(sc.begin(), sc.end(), int64_t{0}), std::accumulate(rc.begin(), rc.end(), int64_t{0}));
      if (send.numel() < most) send = Tensor::Full({most}, 1.f), recv = Tensor::Zeros({most});
    }
    double total = 0;
    for (const auto& [sc, rc] : exchanges) {
      CHECK(groups->expert->Barrier().ok());
      const double start = Now();
      CHECK(groups->expert->AllToAllV(send.data<float>(), sc, recv.data<float>(), rc).ok());
      total += Now() - start;
    }
    return total;
  };
  std::vector<double> step, a2a, wait, reduce, bytes, raw;
  size_t exchanges = 0;
  for (int i = 0; i < kWarmup + kRuns; ++i) {
    CHECK(world.Barrier().ok());
    timed.Reset();
    timed_expert.Reset();
    const double start = Now();
    layer.ZeroGrad();
    ops::SumAll(ops::Mul(layer.Forward(xs, i + 1, true).y, ws)).Backward();
    CHECK(SyncGradients(*groups, layer.NamedParameters()).ok());
    const double took = Now() - start;
    const double replayed = replay(timed_expert.exchanges);
    if (i < kWarmup) continue;
    step.push_back(took);
    a2a.push_back(timed_expert.all_to_all_s);
    wait.push_back(timed_expert.wait_s);
    reduce.push_back(timed.all_reduce_s + timed_expert.all_reduce_s);
    bytes.push_back(static_cast<double>(timed_expert.all_to_all_bytes));
    raw.push_back(replayed);
    exchanges = timed_expert.exchanges.size();
  }
  // Rank 0 reports (its numbers; the ranks' steps end together at the gradient sync).
  if (r == 0) {
    const double t1 = Median(single), tn = Median(step), ta = Median(a2a), tw = Median(wait), tr = Median(reduce);
    const double raw_s = Median(raw);
    std::printf("MoE layer step (T=%lld global, d=%lld, d_ff=%lld, E=8, top-2, dropless), 1 thread per rank\n",
                static_cast<long long>(kTokens), static_cast<long long>(kDim), static_cast<long long>(kHidden));
    std::printf("1 rank:  %.1f ms\n", t1 * 1e3);
    std::printf("EP=%d:    %.1f ms = compute %.1f + waiting for the other rank %.1f + all-to-all %.1f + all-reduce %.1f ms; "
                "%.1f MB sent per rank\n",
                n, tn * 1e3, (tn - ta - tw - tr) * 1e3, tw * 1e3, ta * 1e3, tr * 1e3, Median(bytes) / 1e6);
    std::printf("raw MPI_Alltoallv of each step's %zu exchanges (same counts): %.2f ms (%.2f GB/s per rank); "
                "dispatcher %.2f ms\n",
                exchanges, raw_s * 1e3, Median(bytes) / raw_s / 1e9, ta * 1e3);
    std::printf("BENCH a2a ratio_to_raw=%.3f ep2_over_ep1=%.3f\n", raw_s / ta, tn / t1);
  }
  return 0;
}

}  // namespace
}  // namespace onemodel::distributed

int main(int argc, char** argv) {
  if (std::getenv("OMPI_COMM_WORLD_SIZE") == nullptr) {
    // Not under mpirun: start two ranks of this binary (as root OpenMPI needs the flag; DESIGN §7). One thread
    // each (OpenBLAS reads the count at start-up), and idle ranks yield their core instead of polling: rank 1
    // waits in a barrier while rank 0 times the 1-rank step.
    char self[4096];
    const ssize_t len = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
    CHECK_GT(len, 0);
    self[len] = '\0';
    const std::string command = std::string(
                                    "OMP_NUM_THREADS=1 mpirun --allow-run-as-root --oversubscribe --bind-to none "
                                    "--mca mpi_yield_when_idle 1 -x OMP_NUM_THREADS -np 2 ") +
                                self;
    return std::system(command.c_str()) == 0 ? 0 : 1;
  }
  (void)argc;
  (void)argv;
  return onemodel::distributed::Run();
}
