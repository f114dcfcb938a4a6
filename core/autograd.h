// Reverse-mode autograd. Every op that has a differentiable input records a Node on its output; the
// nodes form the tape, and Backward() walks it in reverse topological order. Parameter (leaf) gradients
// accumulate with +=, so gradient accumulation over micro-batches is just several Backward() calls.
#ifndef ONEMODEL_CORE_AUTOGRAD_H_
#define ONEMODEL_CORE_AUTOGRAD_H_

#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace onemodel {

// Gradients of the node's inputs, given the gradient of its output and the output itself. The output
// is passed in (not captured) so that a node never holds a reference to its own output (no cycles).
// Return an undefined Tensor for an input that needs no gradient.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_out, const Tensor& out)>;

struct Node {
  std::string op;
  std::vector<Tensor> inputs;
  BackwardFn backward;
  // Frees the graph behind this node iteratively, so a long chain cannot overflow the stack.
  ~Node();
};

// Attaches a node to `out` when grad mode is on and some input requires grad; returns `out`.
Tensor Record(Tensor out, const char* op, std::vector<Tensor> inputs, BackwardFn backward);

// Reverse pass from a scalar `root` (seed 1). Leaves that require grad get their .grad accumulated.
void RunBackward(const Tensor& root);

bool GradModeEnabled();

// While alive, ops record nothing (evaluation, optimizer updates).
class NoGradScope {
 public:
  NoGradScope();
  ~NoGradScope();
  NoGradScope(const NoGradScope&) = delete;
  NoGradScope& operator=(const NoGradScope&) = delete;

 private:
  bool previous_;
};

}  // namespace onemodel

#endif  // ONEMODEL_CORE_AUTOGRAD_H_
