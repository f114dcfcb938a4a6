#include "train/session.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "core/cuda_backend.h"
#include "model/trunk.h"

namespace onemodel {

namespace {

// 16 bits of FNV-1a of the name; 0 is left to nobody (stream 0 is the trainer's own).
uint16_t TaskStream(const std::string& name) {
  uint32_t h = 2166136261u;
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  const auto stream = static_cast<uint16_t>(h ^ (h >> 16));
  return stream == 0 ? 1 : stream;
}

}  // namespace

int Session::TaskIndex(const std::string& name) const {
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i]->Head().task == name) return static_cast<int>(i);
  }
  return -1;
}

absl::StatusOr<Session> BuildSession(const config::Experiment& config, const moe::MoeParallel& parallel) {
  if (config.tasks().empty()) return absl::InvalidArgumentError("config field tasks: at least one task is needed");
  absl::Status s = model::ValidateTrunkConfig(config.model());
  if (!s.ok()) return s;
  Session session;
  session.config = config;
  std::set<std::string> names;
  std::vector<model::TaskHead>& heads = session.heads;
  for (int i = 0; i < config.tasks_size(); ++i) {
    const config::TaskConfig& t = config.tasks(i);
    const std::string field = absl::StrCat("tasks[", i, "]");
    if (!names.insert(t.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat("config field ", field, ".name: task '", t.name(), "' twice"));
    }
    if (t.batch_size() < 1) return absl::InvalidArgumentError(absl::StrCat("config field ", field, ".batch_size must be >= 1"));
    if (t.eval_examples() < 0) {
      return absl::InvalidArgumentError(absl::StrCat("config field ", field, ".eval_examples must be >= 0"));
    }
    absl::StatusOr<std::unique_ptr<tasks::Task>> task =
        tasks::TaskRegistry::Create(tasks::TaskContext{t, field, config.seed(), TaskStream(t.name())});
    if (!task.ok()) return task.status();
    heads.push_back((*task)->Head());
    session.tasks.push_back(*std::move(task));
  }
  session.model = std::make_unique<model::MultiModel>(config.model(), heads, config.seed(), parallel);
  if (config.device() == config::Experiment::CUDA) {
    std::string why = "this onemodel was built without --config=cuda";
    if (GetCudaBackend() == nullptr || !GetCudaBackend()->DeviceAvailable(&why)) {
      return absl::FailedPreconditionError(absl::StrCat("config field device: CUDA, but no GPU is usable: ", why));
    }
    session.model->To(Device::CUDA());
  }
  return session;
}

std::vector<std::pair<std::string, int64_t>> ParametersByPart(const NamedTensors& params) {
  std::vector<std::pair<std::string, int64_t>> parts;
  for (const auto& [name, t] : params) {
    // Two components for modality nets and task tokens ("symbols.translation"), one for the trunk parts.
    std::string part = name.substr(0, name.find('.'));
    if (part == "symbols" || part == "class" || part == "task_token") {
      const size_t second = name.find('.', part.size() + 1);
      part = name.substr(0, second);
    }
    auto it = std::find_if(parts.begin(), parts.end(), [&](const auto& p) { return p.first == part; });
    if (it == parts.end()) it = parts.insert(parts.end(), {part, 0});
    it->second += t.numel();
  }
  return parts;
}

}  // namespace onemodel
