// Deterministic batch streams: the batch at any position of a task's stream is a pure function of (seed, task
// stream id, position), so a resumed run reads exactly the batches the uninterrupted run would have read.
#ifndef ONEMODEL_DATA_BATCHING_H_
#define ONEMODEL_DATA_BATCHING_H_

#include <cstdint>
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

}  // namespace onemodel::data

#endif  // ONEMODEL_DATA_BATCHING_H_
