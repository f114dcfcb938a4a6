#include "data/batching.h"

#include <algorithm>
#include <numeric>

#include "core/rng.h"
#include "glog/logging.h"

namespace onemodel::data {
namespace {
constexpr uint16_t kShufflePurpose = 3;
}  // namespace

std::vector<int64_t> Shuffled(int64_t n, uint64_t seed, uint16_t stream, uint32_t epoch) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = static_cast<int64_t>(UniformAt(RngKey{seed, epoch, stream, kShufflePurpose}, i) * (i + 1));
    std::swap(order[i], order[std::min(j, i)]);
  }
  return order;
}

std::vector<std::vector<int64_t>> LengthBucketedBatches(const std::vector<int64_t>& lengths, int64_t batch_size,
                                                        uint64_t seed, uint16_t stream, uint32_t epoch,
                                                        int64_t window) {
  const int64_t n = static_cast<int64_t>(lengths.size());
  std::vector<int64_t> order = Shuffled(n, seed, stream, epoch);
  const int64_t span = batch_size * window;
  for (int64_t begin = 0; begin < n; begin += span) {
    const auto end = order.begin() + std::min(n, begin + span);
    std::stable_sort(order.begin() + begin, end, [&](int64_t a, int64_t b) { return lengths[a] < lengths[b]; });
  }
  std::vector<std::vector<int64_t>> batches;
  for (int64_t begin = 0; begin < n; begin += batch_size) {
    batches.emplace_back(order.begin() + begin, order.begin() + std::min(n, begin + batch_size));
  }
  // The batch order is a second permutation (its own stream), so long and short batches interleave.
  const std::vector<int64_t> batch_order =
      Shuffled(static_cast<int64_t>(batches.size()), seed, static_cast<uint16_t>(stream + 1000), epoch);
  std::vector<std::vector<int64_t>> shuffled;
  for (int64_t i : batch_order) shuffled.push_back(std::move(batches[i]));
  return shuffled;
}

std::vector<std::vector<int64_t>> ShuffledBatches(int64_t n, int64_t batch_size, uint64_t seed, uint16_t stream,
                                                  uint32_t epoch) {
  const std::vector<int64_t> order = Shuffled(n, seed, stream, epoch);
  std::vector<std::vector<int64_t>> batches;
  for (int64_t begin = 0; begin + batch_size <= n; begin += batch_size) {
    batches.emplace_back(order.begin() + begin, order.begin() + begin + batch_size);
  }
  return batches;
}

const std::vector<int64_t>& EpochBatches::At(int64_t position) {
  if (per_epoch_ == 0) {
    batches_ = make_epoch_(0);
    per_epoch_ = static_cast<int64_t>(batches_.size());
    CHECK_GT(per_epoch_, 0) << "EpochBatches: an epoch without batches";
  }
  const auto epoch = static_cast<uint32_t>(position / per_epoch_);
  if (epoch != epoch_) {
    batches_ = make_epoch_(epoch);
    epoch_ = epoch;
  }
  return batches_[position % per_epoch_];
}

}  // namespace onemodel::data
