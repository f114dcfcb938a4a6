// Run by run_mpi_test.sh under mpirun with 1, 2 and 4 ranks: every collective of the MPI communicator and the
// EP x DP process groups, checked on every rank against values computed from the rank numbers.
#include <numeric>

#include "distributed/communicator.h"
#include "distributed/mpi_communicator.h"
#include "distributed/process_groups.h"
#include "gtest/gtest.h"

namespace onemodel::distributed {
namespace {

TEST(CommunicatorTest, AllReduceSumsEveryType) {
  Communicator& world = MpiWorld();
  const int n = world.size(), r = world.rank();
  std::vector<float> f = {static_cast<float>(r + 1), 0.5f};
  std::vector<double> d = {static_cast<double>(r) * 1e-3};
  std::vector<int64_t> i = {int64_t{1} << 40, r};
  ASSERT_TRUE(world.AllReduceSum(f.data(), 2).ok());
  ASSERT_TRUE(world.AllReduceSum(d.data(), 1).ok());
  ASSERT_TRUE(world.AllReduceSum(i.data(), 2).ok());
  EXPECT_EQ(f[0], n * (n + 1) / 2.f);
  EXPECT_EQ(f[1], 0.5f * n);
  EXPECT_NEAR(d[0], 1e-3 * n * (n - 1) / 2, 1e-15);
  EXPECT_EQ(i[0], (int64_t{1} << 40) * n);
  EXPECT_EQ(i[1], int64_t{n} * (n - 1) / 2);
}

TEST(CommunicatorTest, BroadcastFromTheLastRank) {
  Communicator& world = MpiWorld();
  std::vector<int32_t> v(5, world.rank());
  ASSERT_TRUE(world.Broadcast(v.data(), v.size() * sizeof(int32_t), world.size() - 1).ok());
  for (int32_t x : v) EXPECT_EQ(x, world.size() - 1);
}

TEST(CommunicatorTest, AllToAllExchangesBlocks) {
  Communicator& world = MpiWorld();
  const int n = world.size(), r = world.rank();
  std::vector<int64_t> send(2 * n), recv(2 * n);
  for (int d = 0; d < n; ++d) {
    send[2 * d] = 100 * r + d;
    send[2 * d + 1] = -r;
  }
  ASSERT_TRUE(world.AllToAll(send.data(), recv.data(), 2).ok());
  for (int s = 0; s < n; ++s) {
    EXPECT_EQ(recv[2 * s], 100 * s + r);
    EXPECT_EQ(recv[2 * s + 1], -s);
  }
}

// Rank s sends (s + 1) * (d + 1) floats to rank d, valued s * 1000 + d * 10 + i: uneven, some large.
TEST(CommunicatorTest, AllToAllVMovesUnevenPayloads) {
  Communicator& world = MpiWorld();
  const int n = world.size(), r = world.rank();
  std::vector<int64_t> send_counts(n), recv_counts(n);
  std::vector<float> send;
  for (int d = 0; d < n; ++d) {
    send_counts[d] = (r + 1) * (d + 1);
    for (int64_t i = 0; i < send_counts[d]; ++i) send.push_back(r * 1000.f + d * 10.f + i);
  }
  for (int s = 0; s < n; ++s) recv_counts[s] = (s + 1) * (r + 1);
  std::vector<float> recv(std::accumulate(recv_counts.begin(), recv_counts.end(), int64_t{0}));
  ASSERT_TRUE(world.AllToAllV(send.data(), send_counts, recv.data(), recv_counts).ok());
  size_t at = 0;
  for (int s = 0; s < n; ++s) {
    for (int64_t i = 0; i < recv_counts[s]; ++i) EXPECT_EQ(recv[at++], s * 1000.f + r * 10.f + i) << s << " " << i;
  }
  EXPECT_FALSE(world.AllToAllV(send.data(), {1}, recv.data(), recv_counts).ok() && n != 1);
}

TEST(ProcessGroupsTest, ExpertAndDataGroupsPartitionTheWorld) {
  Communicator& world = MpiWorld();
  const int n = world.size(), r = world.rank();
  for (int ep = 1; ep <= n; ++ep) {
    if (n % ep != 0) {
      absl::StatusOr<ProcessGroups> bad = MakeProcessGroups(world, ep);
      ASSERT_FALSE(bad.ok());
      EXPECT_NE(bad.status().message().find("distributed.expert_parallel"), std::string::npos);
      continue;
    }
    absl::StatusOr<ProcessGroups> g = MakeProcessGroups(world, ep);
    ASSERT_TRUE(g.ok()) << g.status();
    EXPECT_EQ(g->expert->size(), ep);
    EXPECT_EQ(g->data->size(), n / ep);
    EXPECT_EQ(g->expert_rank(), r % ep);
    EXPECT_EQ(g->data_rank(), r / ep);
    // Sums of world ranks within each group: the expert group of r is {r - r % ep, ..., + ep - 1}.
    int64_t sum = r;
    ASSERT_TRUE(g->expert->AllReduceSum(&sum, 1).ok());
    const int64_t first = r - r % ep;
    EXPECT_EQ(sum, ep * first + ep * (ep - 1) / 2);
    sum = r;
    ASSERT_TRUE(g->data->AllReduceSum(&sum, 1).ok());
    int64_t want = 0;
    for (int q = r % ep; q < n; q += ep) want += q;
    EXPECT_EQ(sum, want);
  }
}

}  // namespace
}  // namespace onemodel::distributed
