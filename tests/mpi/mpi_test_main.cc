// main() of the multi-rank gtest binaries: every rank runs the tests, rank 0 prints the report, and the process
// fails on every rank if any rank had a failure.
#include <cstdio>

#include "distributed/mpi_communicator.h"
#include "gtest/gtest.h"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  onemodel::distributed::Communicator& world = onemodel::distributed::MpiWorld();
  if (world.rank() != 0) {
    auto& listeners = testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int64_t failures = RUN_ALL_TESTS() != 0 ? 1 : 0;
  if (!world.AllReduceSum(&failures, 1).ok()) return 1;
  if (world.rank() == 0) std::printf("ranks %d, ranks with failures %lld\n", world.size(), static_cast<long long>(failures));
  return failures == 0 ? 0 : 1;
}
