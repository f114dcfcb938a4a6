// Two small data-free tasks for tests of the trainer, registered as "test_copy" (copy random id sequences of 2 to
// 5 tokens, padded: a loss over a varying number of target tokens) and "test_quadrant" (labels for random 16x16
// images, round-robin: the tests are about the trainer, not about what is learnable), and a small config training
// both through noisy top-k MoE in the encoder and Multi-Head MoE in the decoder; run directories for such tests.
#ifndef ONEMODEL_TRAIN_TOY_TASKS_H_
#define ONEMODEL_TRAIN_TOY_TASKS_H_

#include <cstdint>
#include <string>

#include "configs/experiment.pb.h"
#include "train/trainer.h"

namespace onemodel {

// Batch sizes 4 (copy) and 3 (quadrant), 8 steps of 2 micro-batches, dropout 0.1, model dim `dim`.
config::Experiment ToyConfig(int dim = 16);

// An empty run directory `name` under $TEST_TMPDIR (/tmp outside Bazel), and quiet options for a run there that
// stops after `stop_after` steps (0: runs to max_steps).
std::string EmptyRunDir(const std::string& name);
TrainOptions QuietRun(const std::string& dir, int64_t stop_after = 0);

}  // namespace onemodel

#endif  // ONEMODEL_TRAIN_TOY_TASKS_H_
