#include "train/trainer.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/autograd.h"
#include "core/op_profiler.h"
#include "core/ops/ops.h"
#include "distributed/collectives.h"
#include "train/checkpoint.h"
#include "train/metrics_writer.h"
#include "train/optimizer_config.h"
#include "train/sampler.h"
#include "train/session.h"
#include "train/training_ranks.h"

namespace onemodel {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

void AddTime(TimeShare& share, double seconds) {
  share.seconds += seconds;
  share.count += 1;
}

std::string Duration(double seconds) {
  const int64_t s = static_cast<int64_t>(std::max(0.0, seconds));
  return s >= 60 ? absl::StrCat(s / 60, "m", s % 60 < 10 ? "0" : "", s % 60, "s") : absl::StrCat(s, "s");
}

absl::Status CheckTrainConfig(const config::TrainConfig& t) {
  auto bad = [](const std::string& field, const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("config field train.", field, " ", why));
  };
  if (t.max_steps() < 1) return bad("max_steps", "must be >= 1 (the trainer counts steps)");
  if (t.grad_accum_steps() < 1) return bad("grad_accum_steps", "must be >= 1");
  if (t.log_every() < 1) return bad("log_every", "must be >= 1");
  if (t.eval_every() < 0) return bad("eval_every", "must be >= 0");
  if (t.checkpoint_every() < 0) return bad("checkpoint_every", "must be >= 0");
  if (t.keep_checkpoints() < 1) return bad("keep_checkpoints", "must be >= 1");
  return absl::OkStatus();
}

// Averages of one progress interval.
struct Interval {
  std::vector<double> loss_sum, micro_batches, seconds;  // per task
  double aux_sum = 0, positions = 0;
  int64_t steps = 0;
  std::vector<std::vector<double>> load;  // per MoE position: summed per-expert load fractions
  std::vector<double> drop, cv, samples;
  Clock::time_point start = Clock::now();

  explicit Interval(size_t tasks) : loss_sum(tasks), micro_batches(tasks), seconds(tasks) {}
  void AddRouting(const std::vector<moe::RoutingStats>& routing) {
    if (load.size() < routing.size()) {
      load.resize(routing.size());
      drop.resize(routing.size());
      cv.resize(routing.size());
      samples.resize(routing.size());
    }
    for (size_t i = 0; i < routing.size(); ++i) {
      if (load[i].size() < routing[i].load.size()) load[i].resize(routing[i].load.size());
      for (size_t e = 0; e < routing[i].load.size(); ++e) load[i][e] += routing[i].load[e];
      drop[i] += routing[i].drop_rate;
      cv[i] += routing[i].load_cv;
      samples[i] += 1;
    }
  }
  // Routing statistics are each rank's own: the progress line shows their mean over the ranks.
  absl::Status SumRoutingOverRanks(const TrainingRanks& ranks) {
    if (ranks.size() == 1) return absl::OkStatus();
    std::vector<double> flat;
    for (size_t i = 0; i < load.size(); ++i) {
      flat.insert(flat.end(), load[i].begin(), load[i].end());
      flat.insert(flat.end(), {drop[i], cv[i]});
    }
    if (absl::Status s = ranks.Sum(flat.data(), static_cast<int64_t>(flat.size())); !s.ok()) return s;
    size_t k = 0;
    for (size_t i = 0; i < load.size(); ++i) {
      for (double& l : load[i]) l = flat[k++] / ranks.size();
      drop[i] = flat[k++] / ranks.size();
      cv[i] = flat[k++] / ranks.size();
    }
    return absl::OkStatus();
  }
};

const char* MoePositionName(size_t i) { return i == 0 ? "encoder" : i == 1 ? "decoder" : "moe"; }

std::string LoadList(const std::vector<double>& load, double samples) {
  std::vector<std::string> parts;
  for (double l : load) parts.push_back(absl::StrCat(std::round(1000 * l / samples) / 1000));
  return absl::StrJoin(parts, ",");
}

// The moving average's values in the parameters for the life of the object (none: nothing happens).
class SwappedIn {
 public:
  explicit SwappedIn(ExponentialMovingAverage* average) : average_(average) {
    if (average_ != nullptr) average_->Swap();
  }
  ~SwappedIn() {
    if (average_ != nullptr) average_->Swap();
  }
  SwappedIn(const SwappedIn&) = delete;
  SwappedIn& operator=(const SwappedIn&) = delete;

 private:
  ExponentialMovingAverage* average_;
};

absl::StatusOr<std::map<std::string, std::map<std::string, double>>> EvaluateAll(const Session& session,
                                                                                 const model::MultiModel& model,
                                                                                 int64_t step, MetricsWriter* writer,
                                                                                 bool print) {
  std::map<std::string, std::map<std::string, double>> out;
  std::map<std::string, double> scalars;
  for (size_t i = 0; i < session.tasks.size(); ++i) {
    const auto start = Clock::now();
    const tasks::Task& task = *session.tasks[i];
    const std::string name = task.Head().task;
    const tasks::EvalResult r = task.Evaluate(model, static_cast<int>(i), session.config.tasks(i).eval_examples());
    std::vector<std::string> parts;
    for (const auto& [metric, value] : r.metrics) {
      out[name][metric] = value;
      scalars[absl::StrCat("eval/", name, "/", metric)] = value;
      parts.push_back(absl::StrFormat("%s %.4f", metric, value));
    }
    if (print) {
      std::printf("eval  step %lld  %s: %s  (%lld examples, %.1fs)\n", static_cast<long long>(step), name.c_str(),
                  absl::StrJoin(parts, "  ").c_str(), static_cast<long long>(r.examples), Seconds(start));
      for (const std::string& s : r.samples) std::printf("      %s\n", s.c_str());
      std::fflush(stdout);
    }
  }
  absl::Status s = writer->Write(step, scalars);
  if (!s.ok()) return s;
  return out;
}

}  // namespace

absl::StatusOr<TrainResult> Train(const config::Experiment& config, const TrainOptions& options) {
  const auto start = Clock::now();
  absl::Status s = CheckTrainConfig(config.train());
  if (!s.ok()) return s;
  if (config.threads() < 0) return absl::InvalidArgumentError("config field threads must be >= 0 (0: all cores)");
  if (config.threads() > 0) omp_set_num_threads(config.threads());
  const config::TrainConfig& tc = config.train();
  absl::StatusOr<TrainingRanks> made_ranks = TrainingRanks::Make(config, options.world);
  if (!made_ranks.ok()) return made_ranks.status();
  const TrainingRanks& ranks = *made_ranks;
  if (config.device() == config::Experiment::CUDA && ranks.size() > 1) {
    return absl::UnimplementedError(absl::StrCat(
        "config field device: CUDA trains in one process (the trainer's ranks exchange host tensors over MPI; the ",
        "NCCL backend is not wired into it yet), got ", ranks.size(), " ranks"));
  }
  const bool lead = ranks.rank() == 0;  // logs, metrics and evaluation
  const bool print = options.print && lead;

  absl::StatusOr<Session> built = BuildSession(config, ranks.MoeParallel());
  if (!built.ok()) return built.status();
  Session& session = *built;
  model::MultiModel& model = *session.model;
  const size_t num_tasks = session.tasks.size();
  std::vector<int64_t> sizes;
  for (const auto& t : session.tasks) sizes.push_back(t->TrainExamples());
  absl::StatusOr<TaskSampler> sampler = TaskSampler::Make(config.sampler(), config.tasks(), sizes, config.seed());
  if (!sampler.ok()) return sampler.status();
  absl::StatusOr<std::unique_ptr<Optimizer>> optimizer = MakeOptimizer(config.optimizer(), model.NamedParameters());
  if (!optimizer.ok()) return optimizer.status();
  absl::StatusOr<LrSchedule> schedule = MakeSchedule(config.optimizer(), config.schedule(), tc.max_steps());
  if (!schedule.ok()) return schedule.status();
  absl::StatusOr<std::unique_ptr<ExponentialMovingAverage>> average =
      MakeWeightAverage(config.optimizer(), model.NamedParameters());
  if (!average.ok()) return average.status();

  // Resume from the run directory's latest checkpoint, if any (written at any layout: experts by global id).
  std::vector<int64_t> positions(num_tasks, 0);
  int64_t step = 0;
  if (absl::StatusOr<std::string> latest = LatestCheckpoint(options.run_dir); latest.ok()) {
    absl::StatusOr<CheckpointContents> ckpt = LoadCheckpoint(*latest);
    if (!ckpt.ok()) return ckpt.status();
    s = RestoreTensors(*ckpt, "params", model.NamedParameters(), *latest, ranks.expert_shard());
    if (!s.ok()) return s;
    s = RestoreTensors(*ckpt, "optimizer", (*optimizer)->State(), *latest, ranks.expert_shard());
    if (!s.ok()) return s;
    const bool has_average = !GroupTensors(*ckpt, "ema").empty();
    if (*average && !has_average) {
      (*average)->Restart();  // turned on part-way: the average starts from the resumed weights
    } else if (*average) {
      s = RestoreTensors(*ckpt, "ema", (*average)->State(), *latest, ranks.expert_shard());
      if (!s.ok()) return s;
    } else if (has_average && print) {
      std::printf("note: %s keeps a moving average of the weights; this config (optimizer.ema_decay 0) drops it, so "
                  "later checkpoints evaluate on the weights themselves\n", latest->c_str());
    }
    for (size_t i = 0; i < num_tasks; ++i) {
      const std::string key = absl::StrCat("position/", session.tasks[i]->Head().task);
      const auto it = ckpt->values.find(key);
      if (it == ckpt->values.end() || !absl::SimpleAtoi(it->second, &positions[i])) {
        return absl::InvalidArgumentError(absl::StrCat(*latest, ": no data position '", key,
                                                       "': the checkpoint was trained on other tasks"));
      }
    }
    step = ckpt->step;
    if (print) {
      const auto layout = [&](const char* key) {
        const auto it = ckpt->values.find(key);
        return it == ckpt->values.end() ? std::string("1") : it->second;
      };
      std::printf("resuming from %s (step %lld, written by %s rank(s), expert-parallel %s)\n", latest->c_str(),
                  static_cast<long long>(step), layout("world_size").c_str(), layout("expert_parallel").c_str());
    }
  }
  std::optional<MetricsWriter> writer;
  if (lead) {
    absl::StatusOr<MetricsWriter> opened = MetricsWriter::Open(options.run_dir);
    if (!opened.ok()) return opened.status();
    writer.emplace(*std::move(opened));
  }
  // Rank 0 evaluates an unsharded copy of the model (gathered when due), so metrics are those of one process.
  std::unique_ptr<model::MultiModel> eval_model;
  if (lead && ranks.size() > 1) {
    eval_model = std::make_unique<model::MultiModel>(config.model(), session.heads, config.seed());
  }

  if (print) {
    std::printf("model: %lld parameters (", static_cast<long long>(model.NumParameters()));
    std::vector<std::string> parts;
    for (const auto& [part, n] : ParametersByPart(model.NamedParameters())) parts.push_back(absl::StrCat(part, " ", n));
    std::printf("%s)%s, %d threads\n", absl::StrJoin(parts, ", ").c_str(), ranks.size() > 1 ? " on rank 0" : "",
                omp_get_max_threads());
    if (ranks.size() > 1) {
      std::printf("ranks: %d (expert-parallel %d x data-parallel %d); each trains on its share of every batch\n",
                  ranks.size(), ranks.expert_parallel(), ranks.size() / ranks.expert_parallel());
    }
    for (size_t i = 0; i < num_tasks; ++i) {
      std::printf("task %s: %lld training examples, sampled with p=%.3f\n", session.tasks[i]->Head().task.c_str(),
                  static_cast<long long>(sizes[i]), sampler->probabilities()[i]);
    }
    std::fflush(stdout);
  }

  TrainResult result;
  result.first_step = step + 1;
  const int64_t last = options.stop_after > 0 ? std::min(options.stop_after, tc.max_steps()) : tc.max_steps();
  Interval interval(num_tasks);
  std::vector<std::string> latest_load(2);
  auto save = [&](int64_t at) -> absl::Status {
    CheckpointContents c;
    c.step = at;
    c.config = config;
    // Dense tensors go to "<group>" (rank 0), each expert shard's to "<group>.experts-<shard>".
    std::vector<std::pair<std::string, NamedTensors>> groups = {{"params", model.NamedParameters()},
                                                                {"optimizer", (*optimizer)->State()}};
    if (*average) groups.emplace_back("ema", (*average)->State());
    for (const auto& [group, tensors] : groups) {
      NamedTensors dense, experts;
      for (const auto& p : ByGlobalExpertId(tensors, ranks.expert_shard())) {
        (distributed::IsExpertParameter(p.first) ? experts : dense).push_back(p);
      }
      if (lead) c.groups[group] = dense;
      if (ranks.writes_experts() && !experts.empty()) {
        c.groups[absl::StrCat(group, ".experts-", ranks.expert_shard())] = experts;
      }
    }
    for (size_t i = 0; i < num_tasks; ++i) {
      c.values[absl::StrCat("position/", session.tasks[i]->Head().task)] = absl::StrCat(positions[i]);
    }
    c.values["world_size"] = absl::StrCat(ranks.size());
    c.values["expert_parallel"] = absl::StrCat(ranks.expert_parallel());
    for (size_t i = 0; i < latest_load.size(); ++i) {
      if (!latest_load[i].empty()) c.values[absl::StrCat("expert_load/", MoePositionName(i))] = latest_load[i];
    }
    return SaveCheckpoint(options.run_dir, c, tc.keep_checkpoints(), ranks.world());
  };

  while (step < last) {
    ++step;
    double step_loss = 0;
    int stop_votes = 0;  // ranks that were asked to stop
    for (int micro = 0; micro < tc.grad_accum_steps(); ++micro) {
      const int task = sampler->Pick(step, micro);
      const auto batch_start = Clock::now();
      OpProfiler::Mark();  // the update and logging since the last backward are no op's time
      // Every rank reads the whole batch (a pure function of the position) and trains on its rows of it.
      const model::Batch whole = session.tasks[task]->TrainBatch(positions[task]++);
      const auto [first_row, end_row] = ranks.Rows(whole.size());
      const model::Batch batch = ranks.size() > 1 ? whole.Rows(first_row, end_row) : whole;
      OpProfiler::Mark();  // nor is building the batch, beyond its own ops
      const model::ForwardResult r =
          model.Forward(task, batch, model::RunContext{true, static_cast<uint32_t>(step), first_row});
      // The task loss is a mean over the whole batch's target tokens: this rank's share is its token sum over
      // the global count, times the rank count (gradients are averaged over the ranks).
      const bool asked = options.stop_signal != nullptr && options.stop_signal->load() != 0;
      double sums[5] = {static_cast<double>(r.target_tokens), r.loss.item() * r.target_tokens, r.aux_loss.item(),
                        static_cast<double>(r.positions), asked ? 1.0 : 0.0};
      if (s = ranks.Sum(sums, 5); !s.ok()) return s;
      stop_votes = std::max(stop_votes, static_cast<int>(sums[4]));
      const double loss = sums[1] / sums[0], aux = sums[2] / ranks.size();
      const float share = static_cast<float>(ranks.size() * r.target_tokens / sums[0]);
      const Tensor total = ops::Add(ops::Scale(r.loss, share / tc.grad_accum_steps()),
                                    ops::Scale(r.aux_loss, 1.f / tc.grad_accum_steps()));
      total.Backward();
      if (!std::isfinite(loss)) {
        return absl::InternalError(absl::StrCat("step ", step, ": the loss of task ", session.tasks[task]->Head().task,
                                                " is ", loss, " (try a lower optimizer.lr or optimizer.clip_norm)"));
      }
      step_loss += (loss + aux) / tc.grad_accum_steps();
      interval.loss_sum[task] += loss;
      interval.micro_batches[task] += 1;
      const double batch_seconds = Seconds(batch_start);
      interval.seconds[task] += batch_seconds;
      AddTime(result.time[session.tasks[task]->Head().task], batch_seconds);
      interval.aux_sum += aux;
      interval.positions += sums[3];
      interval.AddRouting(r.aux.routing);
    }
    const auto update_start = Clock::now();
    if (s = ranks.SyncAndClip(model.NamedParameters(), config.optimizer().clip_norm()); !s.ok()) return s;
    const float lr = schedule->At(step);
    (*optimizer)->Step(lr);
    (*optimizer)->ZeroGrad();
    if (*average) (*average)->Update();
    AddTime(result.time["update"], Seconds(update_start));
    result.losses.push_back(step_loss);
    ++interval.steps;

    if (step % tc.log_every() == 0 || step == last) {
      if (s = interval.SumRoutingOverRanks(ranks); !s.ok()) return s;
      const double elapsed = Seconds(interval.start);
      const double tokens_per_second = interval.positions / elapsed;
      std::map<std::string, double> scalars = {{"lr", lr}, {"tokens_per_second", tokens_per_second}};
      std::string line = absl::StrCat("step ", step, "/", tc.max_steps(), " |");
      for (size_t i = 0; i < num_tasks; ++i) {
        if (interval.micro_batches[i] == 0) continue;
        const double mean = interval.loss_sum[i] / interval.micro_batches[i];
        const std::string& name = session.tasks[i]->Head().task;
        absl::StrAppendFormat(&line, " %s %.3f", name, mean);
        scalars[absl::StrCat("loss/", name)] = mean;
        scalars[absl::StrCat("ms_per_batch/", name)] = 1000 * interval.seconds[i] / interval.micro_batches[i];
      }
      const double micro = interval.steps * tc.grad_accum_steps();
      absl::StrAppendFormat(&line, " | aux %.4f | %.0f tok/s | lr %.2e | ETA %s |", interval.aux_sum / micro,
                            tokens_per_second, lr, Duration(elapsed / interval.steps * (tc.max_steps() - step)));
      scalars["loss/aux"] = interval.aux_sum / micro;
      for (size_t i = 0; i < interval.load.size(); ++i) {
        const double n = interval.samples[i];
        double max_load = 0;
        for (double l : interval.load[i]) max_load = std::max(max_load, l / n);
        const char* where = MoePositionName(i);
        absl::StrAppendFormat(&line, " %s experts cv %.2f max %.2f drop %.1f%%", where, interval.cv[i] / n, max_load,
                              100 * interval.drop[i] / n);
        scalars[absl::StrCat("moe/", where, "/load_cv")] = interval.cv[i] / n;
        scalars[absl::StrCat("moe/", where, "/drop_rate")] = interval.drop[i] / n;
        if (i < latest_load.size()) latest_load[i] = LoadList(interval.load[i], n);
      }
      if (print) {
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
      }
      if (writer) {
        if (s = writer->Write(step, scalars); !s.ok()) return s;
      }
      interval = Interval(num_tasks);
    }
    const bool at_end = step == tc.max_steps();
    if (tc.eval_every() > 0 && (step % tc.eval_every() == 0 || at_end)) {
      const auto eval_start = Clock::now();
      // Evaluate the averaged weights; swapped back on every way out of this block, so no checkpoint stores them
      // as the weights.
      const SwappedIn averaged(average->get());
      if (eval_model) s = ranks.GatherOnRankZero(model.NamedParameters(), eval_model->NamedParameters());
      else s = ranks.GatherOnRankZero(model.NamedParameters(), {});
      if (!s.ok()) return s;
      if (lead) {
        absl::StatusOr<std::map<std::string, std::map<std::string, double>>> eval =
            EvaluateAll(session, eval_model ? *eval_model : model, step, &*writer, print);
        if (!eval.ok()) return eval.status();
        result.final_eval = *std::move(eval);
      }
      if (s = ranks.Barrier(); !s.ok()) return s;
      AddTime(result.time["evaluation"], Seconds(eval_start));
    }
    if ((tc.checkpoint_every() > 0 && step % tc.checkpoint_every() == 0) || step == last || stop_votes > 0) {
      const auto save_start = Clock::now();
      s = save(step);
      if (!s.ok()) return s;
      AddTime(result.time["checkpoints"], Seconds(save_start));
    }
    if (stop_votes > 0) {
      result.stopped = true;
      if (print) std::printf("stopping after step %lld on a signal: checkpoint written\n", static_cast<long long>(step));
      break;
    }
  }
  result.last_step = step;
  result.seconds = Seconds(start);
  return result;
}

std::string TimeSharesText(const std::map<std::string, TimeShare>& time, double total_seconds) {
  std::vector<std::pair<std::string, TimeShare>> parts(time.begin(), time.end());
  std::stable_sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) {
    return a.second.seconds > b.second.seconds;
  });
  double accounted = 0;
  for (const auto& part : parts) accounted += part.second.seconds;
  parts.emplace_back("other", TimeShare{std::max(0.0, total_seconds - accounted), 0});
  std::string text = absl::StrFormat("time (%.0f s):\n", total_seconds);
  for (const auto& [name, share] : parts) {
    absl::StrAppendFormat(&text, "  %-24s %5.1f %%", name, total_seconds > 0 ? 100 * share.seconds / total_seconds : 0);
    if (share.count > 0) {
      absl::StrAppendFormat(&text, "  %lld x %.1f ms", static_cast<long long>(share.count),
                            1000 * share.seconds / share.count);
    }
    text += "\n";
  }
  return text;
}

}  // namespace onemodel
