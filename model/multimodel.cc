#include "model/multimodel.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/autograd.h"
#include "core/ops/ops.h"
#include "core/rng.h"

namespace onemodel::model {
namespace {

// Layer ids key the initial values and random streams of each part (DESIGN §3).
constexpr uint16_t kImageLayer = 1, kSymbolLayer = 10, kClassLayer = 20, kEncoderLayer = 30, kMixerLayer = 40,
                   kDecoderLayer = 50, kTaskTokenLayer = 60, kInputDropoutLayer = 70, kTargetDropoutLayer = 71,
                   kAudioLayer = 100, kCtcLayer = 110, kAuxCtcLayer = 120;
constexpr uint16_t kInitPurpose = 55, kDropoutPurpose = 2;
// Symbol ids every vocabulary reserves (data/subwords.h; the model does not depend on data/): padding (whose
// column is CTC's blank) and end of sentence.
constexpr int kPadId = 0, kEosId = 2;

// 1 at real ids, 0 at padding, on `device`.
Tensor MaskOf(const Tensor& ids, Device device) {
  const std::vector<int64_t> v = ids.ToIndices();
  std::vector<float> mask(v.size());
  for (size_t i = 0; i < v.size(); ++i) mask[i] = v[i] != 0 ? 1.f : 0.f;
  return Tensor::FromVector(mask, ids.shape()).To(device);
}

Tensor AddTiming(const Tensor& x) {
  return ops::Add(x, TimingSignal(x.dim(1), x.dim(2)).To(x.device()));
}

// The random-stream index of x's first element when x [B, L, d] holds rows first_row.. of the whole batch.
uint64_t RowOffset(const Tensor& x, const RunContext& run) {
  return static_cast<uint64_t>(run.first_row * x.dim(1) * x.dim(2));
}

// Each example's rows of `frames` [B, S x per_position, C] over its real positions (lengths[i] x per_position
// frames), on the host.
std::vector<std::vector<float>> RealFrames(const Tensor& frames, const std::vector<int64_t>& lengths,
                                           int64_t per_position) {
  const int64_t rows = frames.dim(1), classes = frames.dim(2);
  const std::vector<float> values = frames.ToVector();
  std::vector<std::vector<float>> out;
  for (size_t i = 0; i < lengths.size(); ++i) {
    const auto begin = values.begin() + i * rows * classes;
    out.emplace_back(begin, begin + lengths[i] * per_position * classes);
  }
  return out;
}

}  // namespace

MultiModel::MultiModel(const config::TrunkConfig& config, std::vector<TaskHead> heads, uint64_t seed,
                       const moe::MoeParallel& parallel)
    : config_(config),
      precision_(config.matmul_precision() == config::TrunkConfig::BF16 ? ops::MatmulPrecision::kBF16
                                                                         : ops::MatmulPrecision::kF32),
      heads_(std::move(heads)),
      seed_(seed),
      encoder_(config, seed, kEncoderLayer, parallel),
      mixer_(config, seed, kMixerLayer),
      decoder_(config, seed, kDecoderLayer, parallel) {
  const int64_t d = config.dim();
  for (size_t t = 0; t < heads_.size(); ++t) {
    const TaskHead& h = heads_[t];
    if (h.input == InputModality::kImage && image_ == nullptr) {
      image_ = std::make_unique<ImageModality>(config.image_channels(), d, seed, kImageLayer);
      RegisterModule("image", image_.get());
    }
    if (h.input == InputModality::kAudio) {
      CHECK_GT(h.mels, 0) << "task " << h.task << ": audio input without a number of mel bands";
      if (audio_ == nullptr) {
        audio_ = std::make_unique<AudioModality>(config.image_channels(), h.mels, d, config.audio_frame_stride(), seed,
                                                 kAudioLayer);
        RegisterModule("audio", audio_.get());
      }
      CHECK_EQ(audio_->mels(), h.mels) << "task " << h.task << ": another number of mel bands than another task's";
    }
    CHECK(h.ctc_weight == 0 || (h.input == InputModality::kAudio && h.output == OutputModality::kSymbols))
        << "task " << h.task << ": a CTC loss needs audio input and symbol output";
    CHECK(h.attention_decoder || h.ctc_weight > 0 || h.aux_ctc_weight > 0)
        << "task " << h.task << ": without the attention decoder a task needs a CTC loss";
    if (h.aux_ctc_weight > 0) {
      CHECK(h.input == InputModality::kAudio) << "task " << h.task << ": an auxiliary CTC loss needs audio input";
      CHECK_GT(h.aux_ctc_classes, 1) << "task " << h.task << ": an auxiliary CTC loss needs labels besides the blank";
      aux_ctc_heads_[static_cast<int>(t)] = RegisterParameter(
          absl::StrCat("aux_ctc.", h.task),
          RandomNormal({d, kAuxCtcSlots * h.aux_ctc_classes}, RngKey{seed, static_cast<uint32_t>(t), kAuxCtcLayer, kInitPurpose},
                       0.f, 1.f / std::sqrt(static_cast<float>(d))));
    }
    const bool uses_symbols = h.input == InputModality::kSymbols || h.output == OutputModality::kSymbols;
    if (uses_symbols && symbols_.count(h.vocabulary) == 0) {
      CHECK_GT(h.vocab_size, 0) << "task " << h.task << ": symbol modality without a vocabulary size";
      auto& s = symbols_[h.vocabulary];
      s = std::make_unique<SymbolModality>(h.vocab_size, d, seed, kSymbolLayer + static_cast<uint16_t>(symbols_.size()));
      RegisterModule(absl::StrCat("symbols.", h.vocabulary), s.get());
    }
    if (uses_symbols) {
      CHECK_EQ(symbols_.at(h.vocabulary)->vocab(), h.vocab_size)
          << "task " << h.task << ": vocabulary " << h.vocabulary << " has another size in another task";
    }
    if (h.output == OutputModality::kClassLabel) {
      CHECK_GT(h.classes, 1) << "task " << h.task << ": a class-label output needs >= 2 classes";
      auto& c = class_heads_[h.task];
      c = std::make_unique<ClassLabelModality>(h.classes, d, seed, kClassLayer + static_cast<uint16_t>(t));
      RegisterModule(absl::StrCat("class.", h.task), c.get());
    }
    task_tokens_.push_back(RegisterParameter(
        absl::StrCat("task_token.", h.task),
        RandomNormal({d}, RngKey{seed, static_cast<uint32_t>(t), kTaskTokenLayer, kInitPurpose}, 0.f, 1.f)));
  }
  if (std::any_of(heads_.begin(), heads_.end(), [](const TaskHead& h) { return h.ctc_weight > 0; })) {
    ctc_blank_ = RegisterParameter("ctc_blank", RandomNormal({d, 1}, RngKey{seed, 0, kCtcLayer, kInitPurpose}, 0.f,
                                                             1.f / std::sqrt(static_cast<float>(d))));
  }
  RegisterModule("encoder", &encoder_);
  RegisterModule("mixer", &mixer_);
  RegisterModule("decoder", &decoder_);
}

const SymbolModality& MultiModel::Symbols(int task) const { return *symbols_.at(heads_[task].vocabulary); }

MultiModel::Encoded MultiModel::Encode(int task, const Batch& batch, const RunContext& run, TrunkAux* aux) const {
  Encoded e;
  Tensor x;
  // Batches are built on the host; the model reads them on its own device (ids on any device).
  const Device device = task_tokens_.front().device();
  if (heads_[task].input == InputModality::kImage) {
    x = image_->Forward(batch.images.To(device));
  } else if (heads_[task].input == InputModality::kAudio) {
    // The padding after each utterance is neither heard (the front end zeroes it) nor attended to or routed.
    const std::vector<int64_t> frames =
        batch.audio_frames.defined() ? batch.audio_frames.ToIndices() : std::vector<int64_t>();
    x = audio_->Forward(batch.audio.To(device), frames);
    for (int64_t f : frames) e.lengths.push_back(std::min(x.dim(1), audio_->Positions(f)));
    if (frames.empty()) {
      e.lengths.assign(x.dim(0), x.dim(1));
    } else {
      e.mask = ops::LengthMask(e.lengths, x.dim(1), device);
    }
  } else {
    x = Symbols(task).Embed(batch.input_ids);
    e.mask = MaskOf(batch.input_ids, device);
  }
  x = ops::Dropout(AddTiming(x), config_.dropout(), RngKey{seed_, run.step, kInputDropoutLayer, kDropoutPurpose},
                   run.training, RowOffset(x, run));
  e.states = encoder_.Forward(x, e.mask, run, aux);
  return e;
}

Tensor MultiModel::DecodeStates(int task, const Encoded& encoded, const Tensor& prefix, const RunContext& run,
                                TrunkAux* aux, const Tensor& target_mask) const {
  const int64_t b = encoded.states.dim(0), d = config_.dim();
  const Device device = encoded.states.device();
  Tensor y = ops::Add(Tensor::Zeros({b, 1, d}, DType::kF32, device), ops::Reshape(task_tokens_[task], {1, 1, d}));
  if (prefix.defined() && prefix.numel() > 0) y = ops::Concat({y, Symbols(task).Embed(prefix)}, 1);
  y = ops::Dropout(AddTiming(y), config_.dropout(), RngKey{seed_, run.step, kTargetDropoutLayer, kDropoutPurpose},
                   run.training, RowOffset(y, run));
  return decoder_.Forward(mixer_.Forward(y, encoded.states, encoded.mask), encoded.states, encoded.mask, run, aux,
                          target_mask);
}

ForwardResult MultiModel::Forward(int task, const Batch& batch, const RunContext& run) const {
  const ops::MatmulPrecisionScope precision(precision_);
  ForwardResult r;
  const Encoded encoded = Encode(task, batch, run, &r.aux);
  const int64_t b = batch.size();
  if (heads_[task].output == OutputModality::kClassLabel) {
    r.logits = class_heads_.at(heads_[task].task)->Logits(DecodeStates(task, encoded, Tensor(), run, &r.aux));
    r.loss = ops::CrossEntropy(r.logits, ops::Reshape(batch.targets, {b}), config_.label_smoothing());
    r.target_tokens = b;
    r.positions = b;
  } else {
    // Teacher forcing: the decoder reads the task token and targets[:, :-1] and predicts targets.
    const int64_t t = batch.targets.dim(1);
    const std::vector<int64_t> targets = batch.targets.ToIndices();
    std::vector<int64_t> prefix, real_positions, labels;
    for (int64_t i = 0; i < b; ++i) prefix.insert(prefix.end(), targets.begin() + i * t, targets.begin() + (i + 1) * t - 1);
    for (size_t i = 0; i < targets.size(); ++i) {
      if (targets[i] == kPadId) continue;
      real_positions.push_back(static_cast<int64_t>(i));
      labels.push_back(targets[i]);
    }
    r.target_tokens = static_cast<int64_t>(labels.size());
    if (heads_[task].attention_decoder) {
      r.positions = b * t;
      // The decoder's MoE routes only positions with a real target (not the padding after end of sentence), and
      // only those go through the vocabulary-sized output product: the padding's logits would carry no loss.
      const Device device = encoded.states.device();
      const Tensor states = DecodeStates(task, encoded, Tensor::FromIndices(prefix, {b, t - 1}).To(device), run,
                                         &r.aux, MaskOf(batch.targets, device));
      const Tensor real = ops::IndexSelect(ops::Reshape(states, {b * t, states.dim(2)}),
                                           Tensor::FromIndices(real_positions, {r.target_tokens}).To(device));
      r.logits = Symbols(task).Logits(real);
      r.loss = ops::CrossEntropy(r.logits, Tensor::FromIndices(labels, {r.target_tokens}),
                                 config_.label_smoothing());
    } else {
      r.loss = Tensor::Scalar(0.f).To(encoded.states.device());
    }
    if (heads_[task].ctc_weight > 0 && r.target_tokens > 0) {
      // Per target token, as the cross-entropy: the loss stays a mean over the batch's tokens (ranks share it so).
      r.loss = ops::Add(r.loss, ops::Scale(EncoderCtc(task, encoded, batch, targets),
                                           heads_[task].ctc_weight / static_cast<float>(r.target_tokens)));
    }
    if (heads_[task].aux_ctc_weight > 0 && r.target_tokens > 0) {
      CHECK(batch.ctc_labels.defined()) << heads_[task].task << ": an auxiliary CTC loss without Batch::ctc_labels";
      r.loss = ops::Add(r.loss, ops::Scale(AuxiliaryCtc(task, encoded, batch),
                                           heads_[task].aux_ctc_weight / static_cast<float>(r.target_tokens)));
    }
  }
  r.positions += encoded.states.dim(0) * encoded.states.dim(1);
  for (const Tensor& a : r.aux.aux_losses) r.aux_loss = r.aux_loss.defined() ? ops::Add(r.aux_loss, a) : a;
  if (!r.aux_loss.defined()) r.aux_loss = Tensor::Scalar(0.f).To(r.loss.device());
  return r;
}

Tensor MultiModel::EncoderCtc(int task, const Encoded& encoded, const Batch& batch,
                              const std::vector<int64_t>& targets) const {
  const int64_t b = batch.size(), t = batch.targets.dim(1);
  std::vector<std::vector<int>> labels(b);
  for (int64_t i = 0; i < b; ++i) {
    for (int64_t j = 0; j < t; ++j) {
      const int64_t id = targets[i * t + j];
      if (id != kPadId && id != kEosId) labels[i].push_back(static_cast<int>(id));
    }
  }
  return ops::CtcLoss(CtcLogits(task, encoded.states), labels, encoded.lengths, kPadId);
}

Tensor MultiModel::AuxiliaryCtc(int task, const Encoded& encoded, const Batch& batch) const {
  const int64_t b = encoded.states.dim(0), l = batch.ctc_labels.dim(1);
  const std::vector<int64_t> ids = batch.ctc_labels.ToIndices();
  std::vector<std::vector<int>> labels(b);
  for (int64_t i = 0; i < b; ++i) {
    for (int64_t j = 0; j < l && ids[i * l + j] != 0; ++j) labels[i].push_back(static_cast<int>(ids[i * l + j]));
  }
  std::vector<int64_t> frames;
  for (int64_t n : encoded.lengths) frames.push_back(n * kAuxCtcSlots);
  return ops::CtcLoss(AuxiliaryCtcLogits(task, encoded.states), labels, frames, 0);
}

Tensor MultiModel::AuxiliaryCtcLogits(int task, const Tensor& states) const {
  // Position p's kAuxCtcSlots emissions become consecutive frames p * slots, ...: the reshape keeps time order.
  return ops::Reshape(ops::MatMul(states, aux_ctc_heads_.at(task)),
                      {states.dim(0), states.dim(1) * kAuxCtcSlots, heads_[task].aux_ctc_classes});
}

std::vector<std::vector<float>> MultiModel::AuxiliaryCtcLogProbs(int task, const Batch& batch) const {
  CHECK(heads_[task].aux_ctc_weight > 0) << heads_[task].task << " has no auxiliary CTC output";
  NoGradScope no_grad;
  const ops::MatmulPrecisionScope precision(precision_);
  const RunContext run;
  TrunkAux aux;
  const Encoded encoded = Encode(task, batch, run, &aux);
  return RealFrames(ops::LogSoftmax(AuxiliaryCtcLogits(task, encoded.states)), encoded.lengths, kAuxCtcSlots);
}

Tensor MultiModel::CtcLogits(int task, const Tensor& states) const {
  const Tensor tied = Symbols(task).Logits(states);
  return ops::Concat({ops::MatMul(states, ctc_blank_), ops::Narrow(tied, 2, 1, tied.dim(2))}, 2);
}

std::vector<CtcPrefixScorer> MultiModel::CtcScorers(int task, const Encoded& encoded) const {
  CHECK(heads_[task].ctc_weight > 0) << heads_[task].task << " has no CTC output to decode with";
  const Tensor log_probs = ops::LogSoftmax(CtcLogits(task, encoded.states));
  std::vector<std::vector<float>> rows = RealFrames(log_probs, encoded.lengths, 1);
  std::vector<CtcPrefixScorer> scorers;
  for (size_t i = 0; i < rows.size(); ++i) {
    scorers.emplace_back(std::move(rows[i]), encoded.lengths[i], log_probs.dim(2), static_cast<int>(kPadId));
  }
  return scorers;
}

std::vector<int64_t> MultiModel::Classify(int task, const Batch& batch) const {
  CHECK(heads_[task].output == OutputModality::kClassLabel) << heads_[task].task << " has no class-label output";
  NoGradScope no_grad;
  const ops::MatmulPrecisionScope precision(precision_);
  const RunContext run;
  TrunkAux aux;
  const Encoded encoded = Encode(task, batch, run, &aux);
  const Tensor logits = class_heads_.at(heads_[task].task)->Logits(DecodeStates(task, encoded, Tensor(), run, &aux));
  return ops::TopK(logits, 1).indices.ToIndices();
}

std::vector<std::vector<int>> MultiModel::Generate(int task, const Batch& batch, const DecodeOptions& options) const {
  CHECK(heads_[task].output == OutputModality::kSymbols) << heads_[task].task << " has no symbol output";
  CHECK(heads_[task].attention_decoder) << heads_[task].task << " does not train the attention decoder";
  NoGradScope no_grad;
  const ops::MatmulPrecisionScope precision(precision_);
  const RunContext run;
  TrunkAux aux;
  const Encoded encoded = Encode(task, batch, run, &aux);
  const Device device = encoded.states.device();
  const NextLogProbs next = [&](const std::vector<int64_t>& rows, const std::vector<std::vector<int>>& prefixes) {
    const int64_t n = static_cast<int64_t>(rows.size()), t = static_cast<int64_t>(prefixes[0].size());
    const Tensor index = Tensor::FromIndices(rows, {n}).To(device);
    Encoded sub{ops::IndexSelect(encoded.states, index),
                encoded.mask.defined() ? ops::IndexSelect(encoded.mask, index) : Tensor()};
    std::vector<int64_t> ids;
    for (const auto& p : prefixes) ids.insert(ids.end(), p.begin(), p.end());
    TrunkAux step_aux;
    const Tensor states = DecodeStates(task, sub, Tensor::FromIndices(ids, {n, t}).To(device), run, &step_aux);
    const Tensor last = ops::Reshape(ops::Narrow(states, 1, t, t + 1), {n, config_.dim()});
    const std::vector<float> lp = ops::LogSoftmax(Symbols(task).Logits(last)).ToVector();
    const int64_t v = static_cast<int64_t>(lp.size()) / n;
    std::vector<std::vector<float>> out(n);
    for (int64_t i = 0; i < n; ++i) out[i].assign(lp.begin() + i * v, lp.begin() + (i + 1) * v);
    return out;
  };
  const std::vector<CtcPrefixScorer> ctc = options.ctc_weight > 0 ? CtcScorers(task, encoded)
                                                                  : std::vector<CtcPrefixScorer>();
  return Decode(batch.size(), next, options, ctc);
}

}  // namespace onemodel::model
