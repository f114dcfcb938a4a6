#include "core/op_profiler.h"

#include <algorithm>
#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"

namespace onemodel {
namespace {

std::atomic<bool> running{false};        // one profiler at a time
thread_local OpProfiler* active = nullptr;  // set on the profiling thread only

double Between(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

void SortByTime(std::vector<OpProfiler::Entry>& entries) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const OpProfiler::Entry& a, const OpProfiler::Entry& b) { return a.seconds > b.seconds; });
}

// One table row up to the op's name: its share of `total`, total and per-call time, calls and pass.
std::string RowStart(const OpProfiler::Entry& e, double total) {
  return absl::StrFormat("%6.1f %% %9.1f %8lld %8.3f  %-8s  ", total > 0 ? 100 * e.seconds / total : 0.0,
                         1000 * e.seconds, static_cast<long long>(e.calls), 1000 * e.seconds / e.calls,
                         e.backward ? "backward" : "forward");
}

}  // namespace

OpProfiler::OpProfiler() : thread_(std::this_thread::get_id()), mark_(Clock::now()) {
  CHECK(!running.exchange(true)) << "OpProfiler: another profiler is running";
  active = this;
}

OpProfiler::~OpProfiler() {
  CHECK(thread_ == std::this_thread::get_id()) << "OpProfiler: destroyed on another thread than its own";
  active = nullptr;
  running.store(false);
}

OpProfiler* OpProfiler::ActiveHere() { return active; }

void OpProfiler::Add(const std::string& op, bool backward, const Shape& shape, double seconds) {
  Entry& e = entries_[{op, backward, shape}];
  if (e.calls == 0) {
    e.op = op;
    e.backward = backward;
    e.shape = shape;
  }
  e.calls += 1;
  e.seconds += seconds;
}

void OpProfiler::Mark() {
  if (OpProfiler* p = ActiveHere()) p->mark_ = Clock::now();
}

void OpProfiler::OpFinished(const char* op, const Shape& shape) {
  OpProfiler* p = ActiveHere();
  if (p == nullptr || p->backward_depth_ > 0) return;
  const Clock::time_point now = Clock::now();
  p->Add(op, false, shape, Between(p->mark_, now));
  p->mark_ = now;
}

OpProfiler::BackwardScope::BackwardScope(const char* op, const Shape& shape)
    : profiler_(ActiveHere()), op_(op), shape_(shape) {
  if (profiler_ != nullptr && profiler_->backward_depth_++ == 0) profiler_->backward_start_ = Clock::now();
}

OpProfiler::BackwardScope::~BackwardScope() {
  if (profiler_ == nullptr || --profiler_->backward_depth_ > 0) return;
  const Clock::time_point now = Clock::now();
  profiler_->Add(op_, true, shape_, Between(profiler_->backward_start_, now));
  profiler_->mark_ = now;
}

std::vector<OpProfiler::Entry> OpProfiler::Entries() const {
  std::vector<Entry> out;
  for (const auto& [key, e] : entries_) out.push_back(e);
  SortByTime(out);
  return out;
}

std::string OpProfiler::Table(int top) const {
  const std::vector<Entry> entries = Entries();
  double total = 0, backward = 0;
  std::map<std::pair<std::string, bool>, Entry> by_op;
  for (const Entry& e : entries) {
    total += e.seconds;
    if (e.backward) backward += e.seconds;
    Entry& sum = by_op[{e.op, e.backward}];
    sum.op = e.op;
    sum.backward = e.backward;
    sum.calls += e.calls;
    sum.seconds += e.seconds;
  }
  std::vector<Entry> ops;
  for (const auto& [key, e] : by_op) ops.push_back(e);
  SortByTime(ops);
  std::string text = absl::StrFormat("ops: %.2f s, forward %.1f %%, backward %.1f %%\n", total,
                                     total > 0 ? 100 * (total - backward) / total : 0.0,
                                     total > 0 ? 100 * backward / total : 0.0);
  text += "  share  total ms    calls  ms/call  pass      op\n";
  for (const Entry& e : ops) absl::StrAppend(&text, RowStart(e, total), e.op, "\n");
  absl::StrAppendFormat(&text, "the %d largest by output shape:\n", top);
  text += "  share  total ms    calls  ms/call  pass      op               output\n";
  for (size_t i = 0; i < entries.size() && i < static_cast<size_t>(top); ++i) {
    absl::StrAppendFormat(&text, "%s%-16s %s\n", RowStart(entries[i], total), entries[i].op,
                          ShapeToString(entries[i].shape));
  }
  return text;
}

}  // namespace onemodel
