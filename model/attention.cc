#include "model/attention.h"

#include <cmath>
#include <map>
#include <mutex>
#include <vector>

#include "core/ops/ops.h"
#include "core/rng.h"

namespace onemodel::model {
namespace {

constexpr uint16_t kInitPurpose = 50;
// Added to masked scores: exp(-1e9 - max) is 0 in f32, and unlike -inf it keeps fully masked rows finite.
constexpr float kMasked = -1e9f;

// [B, T, H * dh] -> [B * H, T, dh]: the heads become one batch of products (one BatchedMatMul for all of them,
// and one gradient per input instead of a zero-padded slice per head to sum).
Tensor SplitHeads(const Tensor& x, int64_t heads) {
  if (heads == 1) return x;
  const int64_t b = x.dim(0), t = x.dim(1), dh = x.dim(2) / heads;
  return ops::Reshape(ops::SwapAxes12(ops::Reshape(x, {b, t, heads, dh})), {b * heads, t, dh});
}

// The inverse: [B * H, T, dh] -> [B, T, H * dh].
Tensor MergeHeads(const Tensor& x, int64_t batch) {
  if (x.dim(0) == batch) return x;
  const int64_t heads = x.dim(0) / batch, t = x.dim(1), dh = x.dim(2);
  return ops::Reshape(ops::SwapAxes12(ops::Reshape(x, {batch, heads, t, dh})), {batch, t, heads * dh});
}

}  // namespace

Tensor MultiHeadAttention(const Tensor& query, const Tensor& memory, const Tensor& wq, const Tensor& wk,
                          const Tensor& wv, const Tensor& wo, int64_t heads, bool causal, const Tensor& key_mask) {
  CHECK(query.ndim() == 3 && memory.ndim() == 3 && query.dim(0) == memory.dim(0) && query.dim(2) == memory.dim(2))
      << "MultiHeadAttention: query " << ShapeToString(query.shape()) << " and memory "
      << ShapeToString(memory.shape()) << " must be [B, Tq, d] and [B, Tk, d]";
  const int64_t b = query.dim(0), tq = query.dim(1), tk = memory.dim(1), d = query.dim(2);
  CHECK(heads >= 1 && d % heads == 0) << "MultiHeadAttention: " << heads << " heads do not divide d = " << d;
  CHECK(!causal || tq == tk) << "MultiHeadAttention: causal attention needs Tq == Tk, got " << tq << " and " << tk;
  const int64_t dh = d / heads;
  const Tensor q = ops::MatMul(query, wq), k = ops::MatMul(memory, wk), v = ops::MatMul(memory, wv);
  // Additive mask over [Tq, Tk] (causal) and [B, 1, Tk] (padding).
  Tensor causal_mask, padding_mask;
  if (causal) {
    std::vector<float> m(tq * tk, 0.f);
    for (int64_t i = 0; i < tq; ++i) {
      for (int64_t j = i + 1; j < tk; ++j) m[i * tk + j] = kMasked;
    }
    causal_mask = Tensor::FromVector(m, {tq, tk}).To(query.device());
  }
  if (key_mask.defined()) {
    CHECK(key_mask.shape() == (Shape{b, tk})) << "MultiHeadAttention: key_mask " << ShapeToString(key_mask.shape())
                                              << " must be [B, Tk] = [" << b << ", " << tk << "]";
    std::vector<float> m = key_mask.ToVector();
    for (float& x : m) x = x > 0.5f ? 0.f : kMasked;
    padding_mask = Tensor::FromVector(m, {b, 1, tk}).To(query.device());
  }
  // scores [B * H, Tq, Tk]
  Tensor scores = ops::Scale(ops::BatchedMatMul(SplitHeads(q, heads), SplitHeads(k, heads), false, true),
                             1.f / std::sqrt(static_cast<float>(dh)));
  if (causal_mask.defined()) scores = ops::Add(scores, causal_mask);
  if (padding_mask.defined()) {
    scores = ops::Reshape(ops::Add(ops::Reshape(scores, {b, heads, tq, tk}), ops::Reshape(padding_mask, {b, 1, 1, tk})),
                          {b * heads, tq, tk});
  }
  return ops::MatMul(MergeHeads(ops::BatchedMatMul(ops::Softmax(scores), SplitHeads(v, heads)), b), wo);
}

Tensor TimingSignal(int64_t length, int64_t dim) {
  // Every forward pass and decoding step asks for these: computed once per (length, dim).
  static std::mutex mu;
  static std::map<std::pair<int64_t, int64_t>, Tensor> cache;
  std::lock_guard<std::mutex> lock(mu);
  Tensor& cached = cache[{length, dim}];
  if (cached.defined()) return cached;
  const int64_t half = dim / 2;
  std::vector<float> s(length * dim, 0.f);
  const double log_increment = half > 1 ? std::log(1e4) / (half - 1) : 0.0;
  for (int64_t t = 0; t < length; ++t) {
    for (int64_t i = 0; i < half; ++i) {
      const double angle = t * std::exp(-i * log_increment);
      s[t * dim + i] = static_cast<float>(std::sin(angle));
      s[t * dim + half + i] = static_cast<float>(std::cos(angle));
    }
  }
  cached = Tensor::FromVector(s, {length, dim});
  return cached;
}

Attention::Attention(int64_t dim, int64_t heads, uint64_t seed, uint16_t layer) : heads_(heads) {
  const float bound = std::sqrt(3.f / dim);
  auto init = [&](uint32_t part) { return RandomUniform({dim, dim}, RngKey{seed, part, layer, kInitPurpose}, -bound, bound); };
  wq = RegisterParameter("wq", init(0));
  wk = RegisterParameter("wk", init(1));
  wv = RegisterParameter("wv", init(2));
  wo = RegisterParameter("wo", init(3));
}

Tensor Attention::Forward(const Tensor& query, const Tensor& memory, bool causal, const Tensor& key_mask) const {
  return MultiHeadAttention(query, memory, wq, wk, wv, wo, heads_, causal, key_mask);
}

}  // namespace onemodel::model
