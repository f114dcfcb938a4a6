// Checkpoints (DESIGN §6): a directory ckpt-<step>/ with manifest.pbtxt (step, config, tensor index with
// shape, dtype, file and CRC-32C, named values) and safetensors files. Written into a temporary directory,
// fsynced, renamed into place, then `latest` is replaced (also by rename): a crash at any point leaves the
// previous checkpoint and `latest` intact. Loading verifies every checksum.
#ifndef ONEMODEL_TRAIN_CHECKPOINT_H_
#define ONEMODEL_TRAIN_CHECKPOINT_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "configs/experiment.pb.h"
#include "core/module.h"
#include "distributed/communicator.h"

namespace onemodel {

struct CheckpointContents {
  int64_t step = 0;
  config::Experiment config;
  // Each group becomes one safetensors file: "params" -> params.safetensors, "optimizer" -> ...
  std::map<std::string, NamedTensors> groups;
  std::map<std::string, std::string> values;
};

// Writes run_dir/ckpt-<step>/, points run_dir/latest at it, and keeps only the newest `keep_last` (>= 1).
// With `ranks`, every rank of the group calls it with its own groups (names unique over the ranks: "params" on rank
// 0, "params.experts-<shard>" on the expert writers) and all write into one directory (shared storage); rank 0's
// step, config and values go into the manifest, which indexes every rank's tensors. Each rank gets the same result:
// an error on any rank fails the save everywhere and leaves the previous checkpoint as `latest`.
absl::Status SaveCheckpoint(const std::string& run_dir, const CheckpointContents& contents, int keep_last = 3,
                            distributed::Communicator* ranks = nullptr);

// Loads and verifies a checkpoint directory (tensors come back on the CPU).
absl::StatusOr<CheckpointContents> LoadCheckpoint(const std::string& checkpoint_dir);

// run_dir/<name in run_dir/latest>, or NotFound.
absl::StatusOr<std::string> LatestCheckpoint(const std::string& run_dir);

// The complete checkpoints of a run directory (ckpt-<step>, ascending step), or NotFound naming the directory.
absl::StatusOr<std::vector<std::string>> ListCheckpoints(const std::string& run_dir);

// What a user names on the command line: a ckpt-<step> directory as is, or a run directory (one with `latest`) or
// its `latest` file as its latest checkpoint.
absl::StatusOr<std::string> ResolveCheckpointDir(const std::string& dir);

// Experts are stored by global id (DESIGN §6), so a checkpoint loads under any expert-parallel layout: an expert
// parameter (distributed::IsExpertParameter) [n, ...] of expert shard s holds experts s*n .. s*n+n-1 and is
// stored as n tensors "<name>@<global id>" [...] (views of it). Other tensors pass through.
NamedTensors ByGlobalExpertId(const NamedTensors& tensors, int expert_shard = 0);

// The tensors of `group` and of its per-rank parts "<group>.*" (e.g. "params" and "params.experts-1").
NamedTensors GroupTensors(const CheckpointContents& checkpoint, const std::string& group);

// Copies the checkpoint's tensors of `group` into `into` (matched by name; experts by global id for expert shard
// `expert_shard`), checking shapes and dtypes: an error names the checkpoint, the tensor and both shapes; nothing
// is modified unless all match.
absl::Status RestoreTensors(const CheckpointContents& checkpoint, const std::string& group, const NamedTensors& into,
                            const std::string& checkpoint_dir, int expert_shard = 0);

}  // namespace onemodel

#endif  // ONEMODEL_TRAIN_CHECKPOINT_H_
