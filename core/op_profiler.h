// Op-level timing on the CPU (`onemodel profile`): where training steps spend their time, by op, pass
// (forward / backward) and output shape — the shape tells one MatMul (the output softmax's) from another (an
// expert's). An op's forward time is the time since the previous op finished on the profiling thread: ops run
// back to back in a model's forward, and Mark() starts a new stretch where other work (building a batch, the
// optimizer) came in between. A node's backward time is its backward function's, nested ops included. Off unless
// an OpProfiler is alive; times of CUDA ops would be their launches', not their kernels', so it is for the CPU.
#ifndef ONEMODEL_CORE_OP_PROFILER_H_
#define ONEMODEL_CORE_OP_PROFILER_H_

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "core/tensor.h"

namespace onemodel {

class OpProfiler {
 public:
  struct Entry {
    std::string op;
    bool backward = false;
    Shape shape;  // the op's output
    int64_t calls = 0;
    double seconds = 0;
  };

  // Profiles the ops run on the constructing thread until destroyed; one at a time.
  OpProfiler();
  ~OpProfiler();
  OpProfiler(const OpProfiler&) = delete;
  OpProfiler& operator=(const OpProfiler&) = delete;

  // Every (op, pass, shape) seen, the largest total time first.
  std::vector<Entry> Entries() const;
  // Two tables: the time by op and pass, then the `top` largest (op, pass, shape) entries.
  std::string Table(int top) const;

  // Hooks for the engine (core/autograd.cc); each does nothing unless a profiler runs on this thread.
  static void Mark();                                            // the next op's forward starts now
  static void OpFinished(const char* op, const Shape& shape);    // an op's forward ends (Record)
  // Times backward work (a node's backward function, or the engine's own) as `op` with output `shape` for its
  // lifetime; ops run inside it are its time, not forward ops.
  class BackwardScope {
   public:
    BackwardScope(const char* op, const Shape& shape);
    ~BackwardScope();
    BackwardScope(const BackwardScope&) = delete;
    BackwardScope& operator=(const BackwardScope&) = delete;

   private:
    OpProfiler* profiler_;  // the one running when the scope began, if any
    const char* op_;
    const Shape& shape_;
  };

 private:
  using Clock = std::chrono::steady_clock;
  static OpProfiler* ActiveHere();
  void Add(const std::string& op, bool backward, const Shape& shape, double seconds);

  std::thread::id thread_;
  Clock::time_point mark_;
  Clock::time_point backward_start_;
  int backward_depth_ = 0;  // ops inside a backward function belong to it, not to the forward
  std::map<std::tuple<std::string, bool, Shape>, Entry> entries_;
};

}  // namespace onemodel

#endif  // ONEMODEL_CORE_OP_PROFILER_H_
