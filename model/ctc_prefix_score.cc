#include "model/ctc_prefix_score.h"

#include <limits>
#include <utility>

#include "core/ops/ctc.h"
#include "glog/logging.h"

namespace onemodel::model {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
using ops::LogAdd;

}  // namespace

CtcPrefixScorer::CtcPrefixScorer(std::vector<float> log_probs, int64_t positions, int64_t vocab, int blank)
    : log_probs_(std::move(log_probs)), positions_(positions), vocab_(vocab), blank_(blank) {
  CHECK_GE(positions_, 1) << "CTC prefix scores need at least one position";
  CHECK_EQ(static_cast<int64_t>(log_probs_.size()), positions_ * vocab_);
  CHECK(blank_ >= 0 && blank_ < vocab_);
}

CtcPrefixScorer::State CtcPrefixScorer::Empty() const {
  State s;
  s.r_n.assign(positions_, kNegInf);
  s.r_b.resize(positions_);
  float all_blank = 0.f;
  for (int64_t t = 0; t < positions_; ++t) s.r_b[t] = all_blank += At(t, blank_);
  return s;
}

CtcPrefixScorer::State CtcPrefixScorer::Extend(const State& g, int c) const {
  CHECK(c != blank_ && c >= 0 && c < vocab_) << "label " << c;
  // phi[t]: g complete by position t, ready for c: after a blank, or after g's last label when c differs from
  // it (a repeated label needs a blank between).
  auto phi = [&](int64_t t) { return c == g.last ? g.r_b[t] : LogAdd(g.r_b[t], g.r_n[t]); };
  State h;
  h.last = c;
  h.r_n.resize(positions_);
  h.r_b.resize(positions_);
  h.r_n[0] = g.last < 0 ? At(0, c) : kNegInf;  // only the empty prefix is complete before position 0
  h.r_b[0] = kNegInf;
  h.prefix = h.r_n[0];
  for (int64_t t = 1; t < positions_; ++t) {
    const float ready = phi(t - 1);
    h.r_n[t] = LogAdd(h.r_n[t - 1], ready) + At(t, c);
    h.r_b[t] = LogAdd(h.r_b[t - 1], h.r_n[t - 1]) + At(t, blank_);
    h.prefix = LogAdd(h.prefix, ready + At(t, c));  // c first emitted at t
  }
  return h;
}

float CtcPrefixScorer::Whole(const State& g) const { return LogAdd(g.r_n.back(), g.r_b.back()); }

}  // namespace onemodel::model
