#include "core/op_profiler.h"

#include <algorithm>
#include <atomic>

#include "absl/strings/str_format.h"
#include "glog/logging.h"

namespace onemodel {
namespace {

std::atomic<bool> running{false};        // one profiler at a time
thread_local OpProfiler* active = nullptr;  // set on the profiling thread only

double Between(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
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

void OpProfiler::BackwardStarted() {
  OpProfiler* p = ActiveHere();
  if (p == nullptr) return;
  if (p->backward_depth_++ == 0) p->backward_start_ = Clock::now();
}

void OpProfiler::BackwardFinished(const char* op, const Shape& shape) {
  OpProfiler* p = ActiveHere();
  if (p == nullptr) return;
  CHECK_GT(p->backward_depth_, 0) << "OpProfiler: BackwardFinished without BackwardStarted";
  if (--p->backward_depth_ > 0) return;
  const Clock::time_point now = Clock::now();
  p->Add(op, true, shape, Between(p->backward_start_, now));
  p->mark_ = now;
}

std::vector<OpProfiler::Entry> OpProfiler::Entries() const {
  std::vector<Entry> out;
  for (const auto& [key, e] : entries_) out.push_back(e);
  std::stable_sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.seconds > b.seconds; });
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
  std::stable_sort(ops.begin(), ops.end(), [](const Entry& a, const Entry& b) { return a.seconds > b.seconds; });
  const auto share = [total](double s) { return total > 0 ? 100 * s / total : 0.0; };
  std::string text = absl::StrFormat("ops: %.2f s, forward %.1f %%, backward %.1f %%\n", total,
                                     share(total - backward), share(backward));
  text += "  share  total ms    calls  ms/call  pass      op\n";
  for (const Entry& e : ops) {
    absl::StrAppendFormat(&text, "%6.1f %% %9.1f %8lld %8.3f  %-8s  %s\n", share(e.seconds), 1000 * e.seconds,
                          static_cast<long long>(e.calls), 1000 * e.seconds / e.calls,
                          e.backward ? "backward" : "forward", e.op);
  }
  absl::StrAppendFormat(&text, "the %d largest by output shape:\n", top);
  text += "  share  total ms    calls  ms/call  pass      op               output\n";
  for (size_t i = 0; i < entries.size() && i < static_cast<size_t>(top); ++i) {
    const Entry& e = entries[i];
    absl::StrAppendFormat(&text, "%6.1f %% %9.1f %8lld %8.3f  %-8s  %-16s %s\n", share(e.seconds), 1000 * e.seconds,
                          static_cast<long long>(e.calls), 1000 * e.seconds / e.calls,
                          e.backward ? "backward" : "forward", e.op, ShapeToString(e.shape));
  }
  return text;
}

}  // namespace onemodel
