// The benchmarks' timer: the best of several runs is the least disturbed by other work on the machine.
#ifndef ONEMODEL_CORE_TESTING_BEST_SECONDS_H_
#define ONEMODEL_CORE_TESTING_BEST_SECONDS_H_

#include <algorithm>
#include <chrono>
#include <functional>

namespace onemodel::testing {

// Best wall time of `reps` runs of fn after one warm-up, in seconds.
inline double BestSeconds(int reps, const std::function<void()>& fn) {
  fn();
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace onemodel::testing

#endif  // ONEMODEL_CORE_TESTING_BEST_SECONDS_H_
