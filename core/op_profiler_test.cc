#include "core/op_profiler.h"

#include <chrono>
#include <thread>

#include "core/autograd.h"
#include "core/ops/ops.h"
#include "gtest/gtest.h"

namespace onemodel {
namespace {

const OpProfiler::Entry* Find(const std::vector<OpProfiler::Entry>& entries, const std::string& op, bool backward) {
  for (const auto& e : entries) {
    if (e.op == op && e.backward == backward) return &e;
  }
  return nullptr;
}

void Sleep(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// y = x * 2 through a node whose forward takes `forward_ms` after the mark and whose backward sleeps
// `backward_ms` and runs an op of its own (which belongs to the backward, not to the forward table).
Tensor Slow(const Tensor& x, int forward_ms, int backward_ms) {
  Sleep(forward_ms);
  std::vector<float> doubled = x.ToVector();
  for (float& v : doubled) v *= 2.f;
  Tensor out = Tensor::FromVector(doubled, x.shape());
  return Record(out, "Slow", {x}, [backward_ms](const Tensor& g, const Tensor&) {
    Sleep(backward_ms);
    return std::vector<Tensor>{ops::Scale(g, 2.f)};
  });
}

TEST(OpProfilerTest, TimesForwardSinceTheMarkAndBackwardByNode) {
  Tensor x = Tensor::FromVector({1.f, 2.f, 3.f}, {1, 3}).set_requires_grad(true);
  const OpProfiler profiler;
  OpProfiler::Mark();
  const Tensor y = Slow(x, 20, 200);
  ops::SumAll(y).Backward();
  const std::vector<OpProfiler::Entry> entries = profiler.Entries();
  const OpProfiler::Entry* forward = Find(entries, "Slow", false);
  const OpProfiler::Entry* backward = Find(entries, "Slow", true);
  ASSERT_NE(forward, nullptr);
  ASSERT_NE(backward, nullptr);
  EXPECT_EQ(forward->shape, (Shape{1, 3}));
  EXPECT_EQ(forward->calls, 1);
  EXPECT_GE(forward->seconds, 0.02);
  EXPECT_LT(forward->seconds, 0.2);  // the backward's sleep is not the forward's
  EXPECT_GE(backward->seconds, 0.2);
  EXPECT_NE(Find(entries, "Sum", true), nullptr);  // SumAll is a Sum over a flattened view
  EXPECT_NE(Find(entries, "(accumulate .grad)", true), nullptr);
  // The Scale inside Slow's backward is part of its time, not a forward op of the model.
  EXPECT_EQ(Find(entries, "Scale", false), nullptr);
  EXPECT_EQ(entries.front().op, "Slow");  // largest first
  EXPECT_TRUE(entries.front().backward);
}

TEST(OpProfilerTest, SumOfGradientsIsBackwardWork) {
  Tensor x = Tensor::FromVector({1.f, -2.f}, {2}).set_requires_grad(true);
  const OpProfiler profiler;
  const Tensor h = ops::Scale(x, 3.f);
  ops::SumAll(ops::Add(h, h)).Backward();  // h is used twice: its two gradients are summed
  const std::vector<OpProfiler::Entry> entries = profiler.Entries();
  const OpProfiler::Entry* sum = Find(entries, "(sum gradients)", true);
  ASSERT_NE(sum, nullptr);
  EXPECT_EQ(sum->shape, (Shape{2}));
  const OpProfiler::Entry* add = Find(entries, "Add", false);
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->calls, 1);  // the model's Add only
}

TEST(OpProfilerTest, OnlyTheProfilingThreadAndOnlyWhileAlive) {
  const Tensor x = Tensor::FromVector({1.f}, {1});
  ops::Scale(x, 2.f);  // before: not seen
  const OpProfiler profiler;
  std::thread([&x] { ops::Relu(x); }).join();  // another thread: not seen
  ops::Scale(x, 2.f);
  const std::vector<OpProfiler::Entry> entries = profiler.Entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].op, "Scale");
  EXPECT_EQ(entries[0].calls, 1);
}

TEST(OpProfilerTest, TableListsOpsThenShapes) {
  const OpProfiler profiler;
  const Tensor a = Tensor::FromVector({1.f, 2.f, 3.f, 4.f}, {2, 2});
  ops::MatMul(a, a);
  ops::MatMul(a, a);
  const std::string table = profiler.Table(5);
  EXPECT_NE(table.find("forward 100.0 %, backward 0.0 %"), std::string::npos) << table;
  EXPECT_NE(table.find("100.0 %"), std::string::npos) << table;
  EXPECT_NE(table.find("       2"), std::string::npos) << table;  // two calls
  EXPECT_NE(table.find("MatMul           [2, 2]"), std::string::npos) << table;
}

}  // namespace
}  // namespace onemodel
