#include "tasks/task.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "glog/logging.h"

namespace onemodel::tasks {
namespace {

struct Entry {
  std::string description;
  TaskFactory factory;
};

std::map<std::string, Entry>& Registry() {
  static auto* registry = new std::map<std::string, Entry>();  // never destroyed: static init/exit order
  return *registry;
}

}  // namespace

bool TaskRegistry::Register(const std::string& name, const std::string& description, TaskFactory factory) {
  CHECK(Registry().emplace(name, Entry{description, std::move(factory)}).second) << "task " << name
                                                                                   << " registered twice";
  return true;
}

absl::StatusOr<std::unique_ptr<Task>> TaskRegistry::Create(const TaskContext& context) {
  const auto it = Registry().find(context.config.name());
  if (it == Registry().end()) {
    std::vector<std::string> names;
    for (const auto& [name, entry] : Registry()) names.push_back(name);
    return absl::InvalidArgumentError(absl::StrCat("config field ", context.field, ".name: '", context.config.name(),
                                                   "' is not a registered task (registered: ",
                                                   absl::StrJoin(names, ", "), ")"));
  }
  return it->second.factory(context);
}

std::vector<std::pair<std::string, std::string>> TaskRegistry::List() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, entry] : Registry()) out.emplace_back(name, entry.description);
  return out;
}

absl::Status CheckOptions(const TaskContext& context, const std::vector<std::string>& known) {
  for (const auto& [key, value] : context.config.options()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config field ", context.field, ".options: unknown key '", key, "' for task ", context.config.name(),
          known.empty() ? " (it takes no options)" : absl::StrCat(" (known: ", absl::StrJoin(known, ", "), ")")));
    }
  }
  return absl::OkStatus();
}

std::string OptionOr(const TaskContext& context, const std::string& key, const std::string& fallback) {
  const auto option = context.config.options().find(key);
  return option == context.config.options().end() ? fallback : option->second;
}

std::string OptionField(const TaskContext& context, const std::string& key) {
  return absl::StrCat("config field ", context.field, ".options[", key, "]");
}

}  // namespace onemodel::tasks
