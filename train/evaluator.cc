#include "train/evaluator.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/optim.h"
#include "nlohmann/json.hpp"
#include "train/bar_chart.h"
#include "train/checkpoint.h"
#include "train/session.h"

namespace onemodel {
namespace {

// Column order: tasks in first-seen order over all checkpoints.
std::vector<std::string> TaskColumns(const std::vector<CheckpointEval>& evals) {
  std::vector<std::string> columns;
  for (const CheckpointEval& e : evals) {
    for (const auto& [task, r] : e.tasks) {
      if (std::find(columns.begin(), columns.end(), task) == columns.end()) columns.push_back(task);
    }
  }
  return columns;
}

const tasks::EvalResult* Find(const CheckpointEval& e, const std::string& task) {
  for (const auto& [name, r] : e.tasks) {
    if (name == task) return &r;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::vector<CheckpointEval>> EvaluateCheckpoints(const std::vector<std::string>& checkpoints,
                                                                const EvalOptions& options) {
  if (checkpoints.empty()) return absl::InvalidArgumentError("eval: no --checkpoint given");
  std::vector<CheckpointEval> out;
  for (const std::string& given : checkpoints) {
    absl::StatusOr<std::string> resolved = ResolveCheckpointDir(given);
    if (!resolved.ok()) return resolved.status();
    const std::string& dir = *resolved;
    absl::StatusOr<CheckpointContents> ckpt = LoadCheckpoint(dir);
    if (!ckpt.ok()) return ckpt.status();
    absl::StatusOr<Session> session = BuildSession(ckpt->config);
    if (!session.ok()) return absl::Status(session.status().code(), absl::StrCat(dir, ": ", session.status().message()));
    absl::Status s = RestoreTensors(*ckpt, "params", session->model->NamedParameters(), dir);
    if (!s.ok()) return s;
    // A checkpoint that keeps a moving average of the weights (optimizer.ema_decay) is evaluated on it, as training
    // evaluates.
    if (!GroupTensors(*ckpt, "ema").empty()) {
      const NamedTensors into = ExponentialMovingAverage::AsAverages(session->model->NamedParameters());
      if (s = RestoreTensors(*ckpt, "ema", into, dir); !s.ok()) return s;
      if (options.print) std::printf("%s: evaluating the moving average of its weights\n", dir.c_str());
    }
    for (const std::string& name : options.tasks) {
      if (session->TaskIndex(name) < 0) {
        std::vector<std::string> have;
        for (const auto& t : session->tasks) have.push_back(t->Head().task);
        return absl::InvalidArgumentError(absl::StrCat("--tasks: ", dir, " has no task '", name, "' (it has ",
                                                       absl::StrJoin(have, ", "), ")"));
      }
    }
    CheckpointEval e;
    e.checkpoint = dir;
    e.step = ckpt->step;
    for (size_t i = 0; i < session->tasks.size(); ++i) {
      const std::string name = session->tasks[i]->Head().task;
      if (!options.tasks.empty() && std::find(options.tasks.begin(), options.tasks.end(), name) == options.tasks.end()) {
        continue;
      }
      const auto start = std::chrono::steady_clock::now();
      tasks::EvalResult r = session->tasks[i]->Evaluate(*session->model, static_cast<int>(i), options.examples);
      if (options.print) {
        std::printf("%s  %s: %s %.4f (%lld examples, %.1fs)\n", dir.c_str(), name.c_str(), r.metrics[0].first.c_str(),
                    r.metrics[0].second, static_cast<long long>(r.examples),
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        for (const std::string& sample : r.samples) std::printf("    %s\n", sample.c_str());
        std::fflush(stdout);
      }
      e.tasks.emplace_back(name, std::move(r));
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::string EvalTableText(const std::vector<CheckpointEval>& evals) {
  const std::vector<std::string> columns = TaskColumns(evals);
  size_t first = 10;
  for (const CheckpointEval& e : evals) first = std::max(first, e.checkpoint.size());
  std::string text = absl::StrFormat("%-*s", static_cast<int>(first), "checkpoint");
  std::vector<size_t> widths;
  for (const std::string& task : columns) {
    std::string header = task;
    for (const CheckpointEval& e : evals) {
      if (const tasks::EvalResult* r = Find(e, task)) header = absl::StrCat(task, " ", r->metrics[0].first);
    }
    widths.push_back(std::max<size_t>(header.size(), 8));
    absl::StrAppendFormat(&text, "  %*s", static_cast<int>(widths.back()), header);
  }
  text += "\n";
  for (const CheckpointEval& e : evals) {
    absl::StrAppendFormat(&text, "%-*s", static_cast<int>(first), e.checkpoint);
    for (size_t c = 0; c < columns.size(); ++c) {
      const tasks::EvalResult* r = Find(e, columns[c]);
      absl::StrAppendFormat(&text, "  %*s", static_cast<int>(widths[c]),
                            r ? absl::StrFormat("%.4f", r->metrics[0].second) : std::string("-"));
    }
    text += "\n";
  }
  return text;
}

std::string EvalJson(const std::vector<CheckpointEval>& evals) {
  nlohmann::json rows = nlohmann::json::array();
  for (const CheckpointEval& e : evals) {
    nlohmann::json row = {{"checkpoint", e.checkpoint}, {"step", e.step}, {"tasks", nlohmann::json::object()}};
    for (const auto& [task, r] : e.tasks) {
      nlohmann::json metrics = nlohmann::json::object();
      for (const auto& [name, value] : r.metrics) metrics[name] = value;
      row["tasks"][task] = {{"metrics", metrics}, {"headline", r.metrics[0].first}, {"examples", r.examples}};
    }
    rows.push_back(row);
  }
  return nlohmann::json({{"evaluations", rows}}).dump(2) + "\n";
}

absl::StatusOr<std::vector<CheckpointEval>> ReadEvalJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  const nlohmann::json doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.contains("evaluations") || !doc["evaluations"].is_array()) {
    return absl::DataLossError(absl::StrCat(path, ": not an eval.json (no 'evaluations' list)"));
  }
  std::vector<CheckpointEval> evals;
  for (const nlohmann::json& row : doc["evaluations"]) {
    if (!row.contains("checkpoint") || !row.contains("step") || !row.contains("tasks")) {
      return absl::DataLossError(absl::StrCat(path, ": an evaluation without checkpoint, step or tasks"));
    }
    CheckpointEval e;
    e.checkpoint = row["checkpoint"].get<std::string>();
    e.step = row["step"].get<int64_t>();
    for (const auto& [task, t] : row["tasks"].items()) {
      tasks::EvalResult r;
      // The headline metric first, as the evaluator produced it (JSON objects do not keep order).
      const std::string headline = t.value("headline", "");
      for (const auto& [metric, value] : t["metrics"].items()) {
        r.metrics.emplace(metric == headline ? r.metrics.begin() : r.metrics.end(), metric, value.get<double>());
      }
      r.examples = t.value("examples", int64_t{0});
      e.tasks.emplace_back(task, std::move(r));
    }
    evals.push_back(std::move(e));
  }
  return evals;
}

absl::Status WriteEvalChart(const std::vector<CheckpointEval>& evals, const std::string& png_path) {
  BarChart chart;
  for (const std::string& task : TaskColumns(evals)) {
    std::string metric;
    std::vector<double> values;
    for (const CheckpointEval& e : evals) {
      const tasks::EvalResult* r = Find(e, task);
      values.push_back(r ? r->metrics[0].second : NAN);
      if (r) metric = r->metrics[0].first;
    }
    chart.groups.push_back(absl::StrCat(task, " ", metric));
    chart.values.push_back(values);
  }
  for (const CheckpointEval& e : evals) {
    const std::filesystem::path p(e.checkpoint);
    chart.series.push_back(absl::StrCat(p.parent_path().filename().string(), "/", p.filename().string()));
  }
  return WriteBarChartPng(chart, png_path);
}

}  // namespace onemodel
