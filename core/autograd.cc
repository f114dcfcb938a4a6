#include "core/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "core/op_profiler.h"
#include "core/ops/elementwise.h"

namespace onemodel {
namespace {
thread_local bool grad_mode_enabled = true;
}  // namespace

bool GradModeEnabled() { return grad_mode_enabled; }

NoGradScope::NoGradScope() : previous_(grad_mode_enabled) { grad_mode_enabled = false; }
NoGradScope::~NoGradScope() { grad_mode_enabled = previous_; }

Node::~Node() {
  // Destroying a chain recursively (tensor -> node -> input tensor -> node ...) would use stack depth
  // proportional to its length. Instead, steal each input's node when nothing else holds the input, and
  // free the stolen nodes from a worklist. The backward closure goes first: it holds copies of the inputs.
  std::vector<std::shared_ptr<Node>> pending;
  auto steal = [&pending](Node& node) {
    node.backward = nullptr;
    for (Tensor& t : node.inputs) {
      if (t.defined() && t.impl_ptr().use_count() == 1 && t.impl()->grad_fn.use_count() == 1) {
        pending.push_back(std::move(t.impl()->grad_fn));
      }
    }
    node.inputs.clear();
  };
  steal(*this);
  while (!pending.empty()) {
    std::shared_ptr<Node> node = std::move(pending.back());
    pending.pop_back();
    steal(*node);
  }
}

Tensor Record(Tensor out, const char* op, std::vector<Tensor> inputs, BackwardFn backward) {
  OpProfiler::OpFinished(op, out.shape());
  if (!grad_mode_enabled) return out;
  bool any = false;
  for (const Tensor& t : inputs) any = any || (t.defined() && t.requires_grad());
  if (!any) return out;
  auto node = std::make_shared<Node>();
  node->op = op;
  node->inputs = std::move(inputs);
  node->backward = std::move(backward);
  out.impl()->grad_fn = std::move(node);
  return out;
}

void RunBackward(const Tensor& root) {
  CHECK_EQ(root.numel(), 1) << "Backward() needs a scalar, got shape " << ShapeToString(root.shape());
  CHECK(root.requires_grad()) << "Backward() of a tensor that does not require grad";
  NoGradScope no_grad;

  // Topological order of the non-leaf tensors reachable from root (iterative DFS, post-order).
  std::vector<Tensor> order;
  std::unordered_set<TensorImpl*> visited;
  std::vector<std::pair<Tensor, size_t>> stack = {{root, 0}};
  visited.insert(root.impl());
  while (!stack.empty()) {
    auto& [t, next] = stack.back();
    const auto& node = t.grad_fn();
    if (node && next < node->inputs.size()) {
      const Tensor& in = node->inputs[next++];
      if (in.defined() && in.grad_fn() && visited.insert(in.impl()).second) stack.push_back({in, 0});
      continue;
    }
    if (node) order.push_back(t);
    stack.pop_back();
  }

  std::unordered_map<TensorImpl*, Tensor> grads;
  grads[root.impl()] = Tensor::Full(root.shape(), 1.0f).To(root.device());
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const Tensor& t = *it;
    auto found = grads.find(t.impl());
    if (found == grads.end()) continue;  // no path from root carries a gradient here
    Tensor g = found->second;
    grads.erase(found);
    const Node& node = *t.grad_fn();
    std::vector<Tensor> input_grads;
    {
      const OpProfiler::BackwardScope timed(node.op.c_str(), t.shape());
      input_grads = node.backward(g, t);
    }
    CHECK_EQ(input_grads.size(), node.inputs.size()) << node.op << ": backward returned the wrong count";
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const Tensor& in = node.inputs[i];
      Tensor& gi = input_grads[i];
      if (!in.defined() || !in.requires_grad() || !gi.defined()) continue;
      CHECK(gi.shape() == in.shape()) << node.op << ": gradient " << ShapeToString(gi.shape())
                                      << " for input " << i << " of shape " << ShapeToString(in.shape());
      // Timed as backward work of their own: a parameter's gradient added to its .grad, and the sum of the
      // gradients that reach a tensor used more than once.
      if (!in.grad_fn()) {
        const OpProfiler::BackwardScope timed("(accumulate .grad)", in.shape());
        const_cast<Tensor&>(in).AccumulateGrad(std::move(gi));
        continue;
      }
      auto [slot, inserted] = grads.emplace(in.impl(), gi);
      if (!inserted) {
        const OpProfiler::BackwardScope timed("(sum gradients)", in.shape());
        slot->second = ops::Add(slot->second, gi);
      }
    }
  }
}

}  // namespace onemodel
