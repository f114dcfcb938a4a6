#include "train/checkpoint.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/safetensors.h"
#include "distributed/collectives.h"
#include "google/protobuf/text_format.h"
#include "train/crc32c.h"

namespace onemodel {
namespace {

namespace fs = std::filesystem;

constexpr char kPrefix[] = "ckpt-";

absl::Status FsyncPath(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return absl::InternalError(absl::StrCat(path, ": cannot open to fsync"));
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? absl::OkStatus() : absl::InternalError(absl::StrCat(path, ": fsync failed"));
}

// Writes `text` to `path` through a temporary file and a rename.
absl::Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = absl::StrCat(path, ".tmp.", ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return absl::InternalError(absl::StrCat(tmp, ": write failed"));
  }
  absl::Status s = FsyncPath(tmp, false);
  if (s.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    s = absl::InternalError(absl::StrCat(path, ": rename failed"));
  }
  if (!s.ok()) std::remove(tmp.c_str());
  return s;
}

// Moves the finished `tmp_dir` to `final_dir`. A checkpoint of the same step may already be there (a run resumed
// from an earlier step saves it again) and `latest` may name it, so it is swapped out atomically (it lands in
// `tmp_dir`, removed after `latest` is rewritten): deleting it first would leave `latest` naming a missing or
// half-deleted directory if the writer died in between. Filesystems without RENAME_EXCHANGE fall back to that.
absl::Status PutInPlace(const std::string& tmp_dir, const std::string& final_dir) {
  if (::renameat2(AT_FDCWD, tmp_dir.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_EXCHANGE) == 0) {
    return absl::OkStatus();
  }
  if (errno != ENOENT && errno != EINVAL && errno != ENOSYS) {
    return absl::InternalError(absl::StrCat(final_dir, ": exchange with ", tmp_dir, " failed: ", std::strerror(errno)));
  }
  std::error_code ec;
  fs::remove_all(final_dir, ec);
  if (std::rename(tmp_dir.c_str(), final_dir.c_str()) != 0) {
    return absl::InternalError(absl::StrCat(final_dir, ": rename from ", tmp_dir, " failed: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

uint32_t TensorCrc(const Tensor& t) {
  const Tensor host = t.To(Device::CPU());
  return Crc32c(host.raw_data(), host.nbytes());
}

// Steps of the complete checkpoints in run_dir, ascending.
std::vector<int64_t> CheckpointSteps(const std::string& run_dir) {
  std::vector<int64_t> steps;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(run_dir, ec)) {
    const std::string name = entry.path().filename().string();
    int64_t step;
    if (name.rfind(kPrefix, 0) == 0 && absl::SimpleAtoi(name.substr(sizeof(kPrefix) - 1), &step)) {
      steps.push_back(step);
    }
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

// `local` on this rank, and an error naming the rank(s) that failed on every rank (collective).
absl::Status AllRanksOk(distributed::Communicator* ranks, const absl::Status& local, const std::string& what) {
  if (ranks == nullptr || ranks->size() == 1) return local;
  std::vector<int64_t> failed(ranks->size(), 0);
  failed[ranks->rank()] = local.ok() ? 0 : 1;
  if (absl::Status s = ranks->AllReduceSum(failed.data(), ranks->size()); !s.ok()) return s;
  if (!local.ok()) return local;
  std::vector<std::string> names;
  for (int r = 0; r < ranks->size(); ++r) {
    if (failed[r] != 0) names.push_back(absl::StrCat(r));
  }
  if (names.empty()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, " failed on rank(s) ", absl::StrJoin(names, ", "), " (see its error)"));
}

// Rank 0's half: the other ranks' indexes into the manifest, then rename, `latest`, and pruning.
absl::Status CommitCheckpoint(const std::string& run_dir, const std::string& name, const std::string& tmp_dir,
                              const std::string& final_dir, const CheckpointContents& c,
                              config::CheckpointManifest manifest, int keep_last) {
  std::error_code ec;
  std::vector<std::string> parts;
  for (const auto& entry : fs::directory_iterator(tmp_dir, ec)) {
    const std::string file = entry.path().filename().string();
    if (file.rfind("index.rank-", 0) == 0) parts.push_back(entry.path().string());
  }
  std::sort(parts.begin(), parts.end());
  for (const std::string& part : parts) {
    std::ifstream in(part);
    std::stringstream text;
    text << in.rdbuf();
    config::CheckpointManifest index;
    if (!google::protobuf::TextFormat::ParseFromString(text.str(), &index)) {
      return absl::DataLossError(absl::StrCat(part, ": cannot parse"));
    }
    manifest.MergeFrom(index);
    std::remove(part.c_str());
  }
  manifest.set_step(c.step);
  *manifest.mutable_config() = c.config;
  for (const auto& [k, v] : c.values) (*manifest.mutable_values())[k] = v;
  std::string text;
  google::protobuf::TextFormat::PrintToString(manifest, &text);
  absl::Status s = WriteFileAtomically(absl::StrCat(tmp_dir, "/manifest.pbtxt"), text);
  if (s.ok()) s = FsyncPath(tmp_dir, true);
  if (!s.ok()) return s;
  if (s = PutInPlace(tmp_dir, final_dir); !s.ok()) return s;
  s = FsyncPath(run_dir, true);
  if (s.ok()) s = WriteFileAtomically(absl::StrCat(run_dir, "/latest"), name + "\n");
  if (s.ok()) s = FsyncPath(run_dir, true);
  if (!s.ok()) return s;
  // Keep the newest `keep_last`; also clear temporary directories that crashed writers left behind.
  const std::vector<int64_t> steps = CheckpointSteps(run_dir);
  for (size_t i = 0; i + keep_last < steps.size(); ++i) {
    if (steps[i] != c.step) fs::remove_all(absl::StrCat(run_dir, "/", kPrefix, steps[i]), ec);
  }
  for (const auto& entry : fs::directory_iterator(run_dir, ec)) {
    const std::string entry_name = entry.path().filename().string();
    if (entry_name.rfind(".tmp-", 0) == 0) fs::remove_all(entry.path(), ec);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SaveCheckpoint(const std::string& run_dir, const CheckpointContents& c, int keep_last,
                            distributed::Communicator* ranks) {
  if (keep_last < 1) return absl::InvalidArgumentError("SaveCheckpoint: keep_last must be >= 1");
  const int rank = ranks == nullptr ? 0 : ranks->rank();
  const std::string name = absl::StrCat(kPrefix, c.step);
  const std::string final_dir = absl::StrCat(run_dir, "/", name);
  // One name every writer knows; a leftover of a crashed writer is cleared by rank 0 first.
  const std::string tmp_dir = absl::StrCat(run_dir, "/.tmp-", name);
  std::error_code ec;
  absl::Status s;
  if (rank == 0) {
    fs::create_directories(run_dir, ec);
    fs::remove_all(tmp_dir, ec);
    fs::create_directories(tmp_dir, ec);
    if (ec) s = absl::InternalError(absl::StrCat(tmp_dir, ": cannot create: ", ec.message()));
  }
  if (s = AllRanksOk(ranks, s, "creating the checkpoint directory"); !s.ok()) return s;

  // Each rank writes its groups and an index of them; rank 0 merges the indexes into the manifest.
  config::CheckpointManifest manifest;
  for (const auto& [group, tensors] : c.groups) {
    const std::string file = absl::StrCat(group, ".safetensors");
    s = WriteSafetensors(absl::StrCat(tmp_dir, "/", file), tensors);
    if (!s.ok()) break;
    for (const auto& [tensor_name, t] : tensors) {
      auto* entry = manifest.add_tensors();
      entry->set_name(tensor_name);
      entry->set_file(file);
      entry->set_dtype(DTypeName(t.dtype()));
      for (int64_t d : t.shape()) entry->add_shape(d);
      entry->set_crc32c(TensorCrc(t));
    }
  }
  const std::string part_index = absl::StrCat(tmp_dir, "/index.rank-", rank, ".pbtxt");
  if (s.ok() && rank > 0 && manifest.tensors_size() > 0) {
    std::string text;
    google::protobuf::TextFormat::PrintToString(manifest, &text);
    s = WriteFileAtomically(part_index, text);
  }
  if (s = AllRanksOk(ranks, s, "writing checkpoint tensors"); !s.ok()) return s;
  if (rank == 0) s = CommitCheckpoint(run_dir, name, tmp_dir, final_dir, c, manifest, keep_last);
  return AllRanksOk(ranks, s, "committing the checkpoint");
}

absl::StatusOr<std::string> LatestCheckpoint(const std::string& run_dir) {
  std::ifstream in(absl::StrCat(run_dir, "/latest"));
  std::string name;
  if (!in || !std::getline(in, name) || name.empty()) {
    return absl::NotFoundError(absl::StrCat(run_dir, "/latest: no checkpoint yet"));
  }
  return absl::StrCat(run_dir, "/", name);
}

absl::StatusOr<CheckpointContents> LoadCheckpoint(const std::string& dir) {
  const std::string manifest_path = absl::StrCat(dir, "/manifest.pbtxt");
  std::ifstream in(manifest_path);
  if (!in) return absl::NotFoundError(absl::StrCat(manifest_path, ": cannot open (not a checkpoint directory?)"));
  std::stringstream text;
  text << in.rdbuf();
  config::CheckpointManifest manifest;
  if (!google::protobuf::TextFormat::ParseFromString(text.str(), &manifest)) {
    return absl::DataLossError(absl::StrCat(manifest_path, ": cannot parse"));
  }
  CheckpointContents c;
  c.step = manifest.step();
  c.config = manifest.config();
  for (const auto& [k, v] : manifest.values()) c.values[k] = v;
  std::map<std::string, SafetensorsReader> readers;
  for (const auto& entry : manifest.tensors()) {
    const std::string file = absl::StrCat(dir, "/", entry.file());
    auto it = readers.find(file);
    if (it == readers.end()) {
      absl::StatusOr<SafetensorsReader> reader = SafetensorsReader::Open(file);
      if (!reader.ok()) return reader.status();
      it = readers.emplace(file, std::move(*reader)).first;
    }
    absl::StatusOr<Tensor> t = it->second.Read(entry.name());
    if (!t.ok()) return t.status();
    const Shape shape(entry.shape().begin(), entry.shape().end());
    if (t->shape() != shape || DTypeName(t->dtype()) != entry.dtype()) {
      return absl::DataLossError(absl::StrCat(file, ": tensor '", entry.name(), "' is ", DTypeName(t->dtype()), " ",
                                              ShapeToString(t->shape()), ", the manifest says ", entry.dtype(), " ",
                                              ShapeToString(shape)));
    }
    if (TensorCrc(*t) != entry.crc32c()) {
      return absl::DataLossError(absl::StrCat(file, ": tensor '", entry.name(), "' fails its CRC-32C check (corrupt)"));
    }
    const std::string group = entry.file().substr(0, entry.file().find(".safetensors"));
    c.groups[group].emplace_back(entry.name(), *t);
  }
  return c;
}

NamedTensors ByGlobalExpertId(const NamedTensors& tensors, int expert_shard) {
  NamedTensors out;
  for (const auto& [name, t] : tensors) {
    if (!distributed::IsExpertParameter(name)) {
      out.emplace_back(name, t);
      continue;
    }
    const Shape& shape = t.shape();
    const Shape per_expert(shape.begin() + 1, shape.end());
    const int64_t local = shape[0];
    for (int64_t i = 0; i < local; ++i) {
      out.emplace_back(absl::StrCat(name, "@", expert_shard * local + i), t.Narrow(i, i + 1).View(per_expert));
    }
  }
  return out;
}

NamedTensors GroupTensors(const CheckpointContents& checkpoint, const std::string& group) {
  NamedTensors out;
  for (const auto& [name, tensors] : checkpoint.groups) {
    if (name == group || name.rfind(group + ".", 0) == 0) out.insert(out.end(), tensors.begin(), tensors.end());
  }
  return out;
}

absl::Status RestoreTensors(const CheckpointContents& checkpoint, const std::string& group, const NamedTensors& into,
                            const std::string& checkpoint_dir, int expert_shard) {
  const NamedTensors stored = GroupTensors(checkpoint, group);
  if (stored.empty()) return absl::NotFoundError(absl::StrCat(checkpoint_dir, ": no '", group, "' tensors"));
  std::map<std::string, const Tensor*> saved;
  for (const auto& [name, t] : stored) saved[name] = &t;
  const NamedTensors wanted = ByGlobalExpertId(into, expert_shard);
  // Check everything first, so a mismatch changes nothing.
  for (const auto& [name, t] : wanted) {
    auto it = saved.find(name);
    if (it == saved.end()) {
      return absl::NotFoundError(absl::StrCat(checkpoint_dir, ": no tensor '", name, "' in '", group,
                                              "' (a model with more experts, or other parts?)"));
    }
    if (it->second->shape() != t.shape() || it->second->dtype() != t.dtype()) {
      return absl::InvalidArgumentError(absl::StrCat(checkpoint_dir, ": tensor '", name, "' is ",
                                                     ShapeToString(it->second->shape()), " in the checkpoint but ",
                                                     ShapeToString(t.shape()), " in the model (another model shape?)"));
    }
  }
  for (const auto& [name, t] : wanted) const_cast<Tensor&>(t).CopyFrom(*saved[name]);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ListCheckpoints(const std::string& run_dir) {
  std::vector<std::string> dirs;
  for (int64_t step : CheckpointSteps(run_dir)) dirs.push_back(absl::StrCat(run_dir, "/", kPrefix, step));
  if (dirs.empty()) return absl::NotFoundError(absl::StrCat(run_dir, ": no checkpoints (ckpt-<step> directories)"));
  return dirs;
}

absl::StatusOr<std::string> ResolveCheckpointDir(const std::string& dir) {
  const std::filesystem::path given(dir);
  if (given.filename() == "latest" && std::filesystem::is_regular_file(given)) {
    return LatestCheckpoint(given.has_parent_path() ? given.parent_path().string() : ".");
  }
  if (!std::filesystem::exists(absl::StrCat(dir, "/latest"))) return dir;
  return LatestCheckpoint(dir);
}

}  // namespace onemodel
