// Deterministic batch streams: the batch at any position of a task's stream is a pure function of (seed, task
// stream id, position), so a resumed run reads exactly the batches the uninterrupted run would have read.
#ifndef ONEMODEL_DATA_BATCHING_H_
#define ONEMODEL_DATA_BATCHING_H_

#include <cstdint>
#include <functional>
#include <vector>

namespace onemodel::data {

// A permutation of [0, n) (Fisher-Yates on the counter-based RNG), one per (seed, stream, epoch).
std::vector<int64_t> Shuffled(int64_t n, uint64_t seed, uint16_t stream, uint32_t epoch);

// One epoch's batches of example indices: the examples shuffled, then sorted by length within windows of
// `window` batches (so a batch holds similar lengths and little padding), then the batches shuffled. Every
// example appears once; the last batch may be smaller.
std::vector<std::vector<int64_t>> LengthBucketedBatches(const std::vector<int64_t>& lengths, int64_t batch_size,
                                                        uint64_t seed, uint16_t stream, uint32_t epoch,
                                                        int64_t window = 50);

// Batches of `batch_size` consecutive examples of a shuffled epoch (the last partial batch is dropped).
std::vector<std::vector<int64_t>> ShuffledBatches(int64_t n, int64_t batch_size, uint64_t seed, uint16_t stream,
                                                  uint32_t epoch);

// A task's stream of batches, epoch after epoch: batch `position` of the stream is batch position % B of epoch
// position / B (B batches per epoch, the same every epoch). Keeps the epoch last asked for, since training reads
// positions in order.
class EpochBatches {
 public:
  using MakeEpoch = std::function<std::vector<std::vector<int64_t>>(uint32_t epoch)>;
  explicit EpochBatches(MakeEpoch make_epoch) : make_epoch_(std::move(make_epoch)) {}
  const std::vector<int64_t>& At(int64_t position);

 private:
  MakeEpoch make_epoch_;
  int64_t per_epoch_ = 0;
  uint32_t epoch_ = 0;
  std::vector<std::vector<int64_t>> batches_;
};

}  // namespace onemodel::data

#endif  // ONEMODEL_DATA_BATCHING_H_
