#include "model/multimodel.h"

#include <cmath>
#include <random>

#include "core/ops/ops.h"
#include "core/optim.h"
#include "core/testing/gradcheck.h"
#include "gtest/gtest.h"

namespace onemodel::model {
namespace {

using onemodel::testing::CheckParameterGradients;

config::TrunkConfig SmallConfig() {
  config::TrunkConfig c;
  c.set_dim(16);
  c.set_heads(2);
  c.set_image_channels(4);
  for (config::MoeConfig* m : {c.mutable_encoder_moe(), c.mutable_decoder_moe()}) {
    m->set_num_experts(4);
    m->set_hidden(16);
    m->mutable_router()->set_noise(false);
    // Dropless: a token's output never depends on which other tokens compete for capacity.
    m->mutable_router()->set_capacity_factor_train(0);
    m->mutable_router()->set_capacity_factor_eval(0);
  }
  return c;
}

std::vector<TaskHead> Heads() {
  return {{"vision", InputModality::kImage, OutputModality::kClassLabel, 10, "", 0},
          {"copy", InputModality::kSymbols, OutputModality::kSymbols, 0, "words", 12}};
}

Batch SymbolBatch(std::mt19937& rng, int64_t b, int64_t t) {
  std::vector<int64_t> ids(b * t);
  for (auto& id : ids) id = 3 + rng() % 9;
  for (int64_t i = 0; i < b; ++i) ids[i * t + t - 1] = 2;  // end of sentence
  Batch batch;
  batch.input_ids = Tensor::FromIndices(ids, {b, t});
  batch.targets = batch.input_ids;
  return batch;
}

TEST(MultiModelTest, NamesParametersByModalityAndTrunkPart) {
  MultiModel model(SmallConfig(), Heads(), 1);
  std::set<std::string> names;
  for (const auto& [name, t] : model.NamedParameters()) names.insert(name);
  for (const char* n : {"image.stack.stem.depthwise", "symbols.words.embedding", "class.vision.weight", "task_token.copy",
                        "encoder.moe.moe.router.weight", "decoder.conv.step1.pointwise", "mixer.attention.attention.wq"}) {
    EXPECT_TRUE(names.count(n)) << n;
  }
}

TEST(MultiModelTest, ClassifiesImages) {
  MultiModel model(SmallConfig(), Heads(), 1);
  std::mt19937 rng(1);
  Batch batch;
  batch.images = onemodel::testing::RandomTensor(rng, {3, 28, 28}, 0.f, 1.f);
  batch.targets = Tensor::FromIndices({1, 7, 0}, {3, 1});
  const ForwardResult r = model.Forward(0, batch, RunContext{true, 1});
  EXPECT_EQ(r.logits.shape(), (Shape{3, 10}));
  EXPECT_EQ(r.target_tokens, 3);
  EXPECT_EQ(r.aux.routing.size(), 2u);  // encoder and decoder MoE
  EXPECT_EQ(model.Classify(0, batch).size(), 3u);
}

TEST(MultiModelTest, TeacherForcedLogitsDoNotSeeLaterTargets) {
  MultiModel model(SmallConfig(), Heads(), 2);
  std::mt19937 rng(2);
  Batch batch = SymbolBatch(rng, 2, 6);
  const std::vector<float> before = model.Forward(1, batch, RunContext{}).logits.ToVector();
  std::vector<int64_t> changed = batch.targets.ToIndices();
  changed[3] = changed[3] == 4 ? 5 : 4;  // example 0, position 3
  batch.targets = Tensor::FromIndices(changed, {2, 6});
  const std::vector<float> after = model.Forward(1, batch, RunContext{}).logits.ToVector();
  const int64_t v = 12;
  for (int64_t p = 0; p < 6; ++p) {
    float diff = 0;
    for (int64_t j = 0; j < v; ++j) diff = std::max(diff, std::abs(before[p * v + j] - after[p * v + j]));
    if (p <= 3) EXPECT_LT(diff, 1e-5) << "position " << p << " saw a later target";
    else EXPECT_GT(diff, 1e-6) << "position " << p << " should see target 3";
  }
}

TEST(MultiModelTest, OnlyRealTargetsReachTheOutputSoftmax) {
  MultiModel model(SmallConfig(), Heads(), 5);
  std::mt19937 rng(5);
  Batch batch = SymbolBatch(rng, 2, 6);
  std::vector<int64_t> ids = batch.targets.ToIndices();
  ids[3] = 2;  // example 0 ends after 4 targets, then padding
  ids[4] = ids[5] = 0;
  batch.targets = Tensor::FromIndices(ids, {2, 6});
  const ForwardResult r = model.Forward(1, batch, RunContext{});
  ASSERT_EQ(r.target_tokens, 10);
  ASSERT_EQ(r.logits.shape(), (Shape{10, 12}));
  EXPECT_EQ(r.positions, 2 * 6 + 2 * 6);  // encoder and decoder positions, padding included
  // The loss is the mean cross-entropy of those rows, computed here from the logits.
  const std::vector<float> logits = r.logits.ToVector();
  std::vector<int64_t> labels;
  for (int64_t id : ids) {
    if (id != 0) labels.push_back(id);
  }
  double sum = 0;
  for (int64_t row = 0; row < 10; ++row) {
    double z = 0;
    for (int64_t j = 0; j < 12; ++j) z += std::exp(logits[row * 12 + j]);
    sum += std::log(z) - logits[row * 12 + labels[row]];
  }
  EXPECT_NEAR(r.loss.item(), sum / 10, 1e-5);
  // More padding after the targets changes nothing the loss sees (the decoder is causal).
  Batch longer = batch;
  std::vector<int64_t> padded;
  for (int64_t i = 0; i < 2; ++i) {
    padded.insert(padded.end(), ids.begin() + i * 6, ids.begin() + (i + 1) * 6);
    padded.insert(padded.end(), {0, 0});
  }
  longer.targets = Tensor::FromIndices(padded, {2, 8});
  EXPECT_NEAR(model.Forward(1, longer, RunContext{}).loss.item(), r.loss.item(), 1e-5);
}

TEST(MultiModelTest, StepwiseGreedyDecodingMatchesTheFullPass) {
  MultiModel model(SmallConfig(), Heads(), 3);
  std::mt19937 rng(3);
  Batch batch = SymbolBatch(rng, 3, 5);
  DecodeOptions o;
  o.max_length = 6;
  const std::vector<std::vector<int>> out = model.Generate(1, batch, o);
  for (size_t e = 0; e < out.size(); ++e) {
    // Feeding the decoded tokens back as targets, every position's argmax must be the decoded token.
    std::vector<int64_t> ids(out[e].begin(), out[e].end());
    if (static_cast<int>(ids.size()) < o.max_length) ids.push_back(2);
    Batch one;
    one.input_ids = ops::Slice(batch.input_ids, e, e + 1);
    one.targets = Tensor::FromIndices(ids, {1, static_cast<int64_t>(ids.size())});
    const std::vector<int64_t> argmax = ops::TopK(model.Forward(1, one, RunContext{}).logits, 1).indices.ToIndices();
    EXPECT_EQ(argmax, ids) << "example " << e;
  }
}

TEST(MultiModelTest, GradientsOfModalityAndTaskParameters) {
  MultiModel model(SmallConfig(), Heads(), 4);
  std::mt19937 rng(4);
  const Batch batch = SymbolBatch(rng, 2, 4);
  NamedTensors some;
  for (const auto& [name, t] : model.NamedParameters()) {
    if (name == "task_token.copy" || name == "decoder.norm.gamma" || name == "mixer.attention.attention.wv") {
      some.emplace_back(name, t);
    }
  }
  ASSERT_EQ(some.size(), 3u);
  CheckParameterGradients(some, [&] { return model.Forward(1, batch, RunContext{}).loss; }, 1e-2, 3e-2);
}

TEST(MultiModelTest, LearnsToCopy) {
  MultiModel model(SmallConfig(), Heads(), 5);
  Adam adam(model.NamedParameters(), AdamOptions{});
  std::mt19937 rng(5);
  float first = 0, last = 0;
  for (int step = 1; step <= 150; ++step) {
    const Batch batch = SymbolBatch(rng, 16, 5);
    const ForwardResult r = model.Forward(1, batch, RunContext{true, static_cast<uint32_t>(step)});
    adam.ZeroGrad();
    ops::Add(r.loss, r.aux_loss).Backward();
    adam.Step(3e-3f);
    (step == 1 ? first : last) = r.loss.item();
  }
  EXPECT_LT(last, 0.5f * first) << "first " << first << " last " << last;
}

// Log-mel frames [B, T, mels] -> ceil(T / 8) encoder positions, or ceil(T / 4) at audio_frame_stride 4; the audio
// front end's parameters get gradients (checked against finite differences) from a transcript loss.
TEST(MultiModelTest, AudioModalityCompressesFramesEightOrFourfoldAndLearns) {
  std::vector<TaskHead> heads = Heads();
  heads.push_back({"speech", InputModality::kAudio, OutputModality::kSymbols, 0, "words", 12, 20});
  std::mt19937 rng(6);
  Batch batch = SymbolBatch(rng, 2, 4);
  batch.input_ids = Tensor();
  batch.audio = onemodel::testing::RandomTensor(rng, {2, 37, 20}, -1.f, 1.f);
  config::TrunkConfig fourfold = SmallConfig();
  fourfold.set_audio_frame_stride(4);
  // ceil(37 / 4) encoder positions, 4 decoder positions per example; the same parameters as at stride 8
  const MultiModel fourfold_model(fourfold, heads, 6);
  EXPECT_EQ(fourfold_model.Forward(2, batch, RunContext{}).positions, 2 * 10 + 2 * 4);
  MultiModel model(SmallConfig(), heads, 6);
  EXPECT_EQ(model.NumParameters(), fourfold_model.NumParameters());
  const ForwardResult r = model.Forward(2, batch, RunContext{});
  EXPECT_EQ(r.positions, 2 * 5 + 2 * 4);  // ceil(37 / 8)
  NamedTensors some;
  for (const auto& [name, t] : model.NamedParameters()) {
    if (name == "audio.projection" || name == "audio.stack.down1.pointwise") some.emplace_back(name, t);
  }
  ASSERT_EQ(some.size(), 2u);
  CheckParameterGradients(some, [&] { return model.Forward(2, batch, RunContext{}).loss; }, 1e-3, 3e-2);
}

// ctc_weight adds w x CTC(encoder states through the output softmax, its own blank) per target token: linear in w,
// over each utterance's own positions, with gradients (checked against finite differences) into the blank, the tied
// embedding, the encoder and the audio front end.
TEST(MultiModelTest, CtcLossOnTheEncoderStates) {
  std::mt19937 rng(7);
  Batch batch = SymbolBatch(rng, 2, 4);
  batch.input_ids = Tensor();
  batch.audio = onemodel::testing::RandomTensor(rng, {2, 37, 20}, -1.f, 1.f);
  batch.audio_frames = Tensor::FromIndices({37, 29}, {2});  // 5 and 4 encoder positions for 3 labels each
  float loss[3];
  for (int i = 0; i < 3; ++i) {
    std::vector<TaskHead> heads = Heads();
    heads.push_back({"speech", InputModality::kAudio, OutputModality::kSymbols, 0, "words", 12, 20});
    heads.back().ctc_weight = 0.5f * i;
    MultiModel model(SmallConfig(), heads, 9);
    loss[i] = model.Forward(2, batch, RunContext{}).loss.item();
    if (i < 2) continue;
    Batch unpadded = batch;  // every utterance taken as 5 positions long: another loss
    unpadded.audio_frames = Tensor();
    EXPECT_GT(std::abs(model.Forward(2, unpadded, RunContext{}).loss.item() - loss[i]), 1e-3);
    NamedTensors some;
    for (const auto& [name, t] : model.NamedParameters()) {
      if (name == "audio.projection" || name == "symbols.words.embedding" || name == "encoder.norm.gamma" ||
          name == "ctc_blank") {
        some.emplace_back(name, t);
      }
    }
    ASSERT_EQ(some.size(), 4u);
    CheckParameterGradients(some, [&] { return model.Forward(2, batch, RunContext{}).loss; }, 1e-3, 3e-2);
  }
  EXPECT_GT(loss[1] - loss[0], 0.1f);  // -log p of 3 labels over 4-5 positions of 12 symbols is several nats
  EXPECT_NEAR(loss[2] - loss[0], 2 * (loss[1] - loss[0]), 1e-4);
}

// Two utterances of 20 bands (37 and 29 frames: 5 and 4 encoder positions) with 4 target subwords and 7 and 6
// auxiliary labels (1..5; the second's has a repeat).
Batch AudioBatchWithLabels() {
  std::mt19937 rng(8);
  Batch batch = SymbolBatch(rng, 2, 4);
  batch.input_ids = Tensor();
  batch.audio = onemodel::testing::RandomTensor(rng, {2, 37, 20}, -1.f, 1.f);
  batch.audio_frames = Tensor::FromIndices({37, 29}, {2});
  batch.ctc_labels = Tensor::FromIndices({1, 2, 3, 4, 5, 4, 3, 2, 2, 5, 1, 3, 4, 0}, {2, 7});
  return batch;
}

// aux_ctc_weight adds w x CTC(encoder states through the task's own head, kAuxCtcSlots labels per position) on
// Batch::ctc_labels per target token: linear in w, with gradients into the head, the encoder and the audio front end.
// 7 labels fit the first utterance's 5 positions only as 10 slots, and 6 (with a repeat) the second's 4 only as 8.
TEST(MultiModelTest, AuxiliaryCtcLossOnTheEncoderStates) {
  const Batch batch = AudioBatchWithLabels();
  float loss[3];
  for (int i = 0; i < 3; ++i) {
    std::vector<TaskHead> heads = Heads();
    heads.push_back({"speech", InputModality::kAudio, OutputModality::kSymbols, 0, "words", 12, 20});
    heads.back().aux_ctc_weight = 0.5f * i;
    heads.back().aux_ctc_classes = 6;
    MultiModel model(SmallConfig(), heads, 9);
    loss[i] = model.Forward(2, batch, RunContext{}).loss.item();
    if (i < 2) continue;
    NamedTensors some;
    for (const auto& [name, t] : model.NamedParameters()) {
      if (name == "audio.projection" || name == "encoder.norm.gamma" || name == "aux_ctc.speech") some.emplace_back(name, t);
    }
    ASSERT_EQ(some.size(), 3u);
    CheckParameterGradients(some, [&] { return model.Forward(2, batch, RunContext{}).loss; }, 1e-3, 3e-2);
  }
  // Several nats per utterance at initialization: neither would count with a label per position (no alignment).
  EXPECT_GT(loss[1] - loss[0], 0.3f);
  EXPECT_NEAR(loss[2] - loss[0], 2 * (loss[1] - loss[0]), 1e-4);
}

// attention_decoder = false: the task's loss is its CTC loss alone (the same parameters' full loss less the
// decoder's cross-entropy), and neither the decoder nor the mixer gets a gradient from it.
TEST(MultiModelTest, WithoutTheAttentionDecoderATaskTrainsItsCtcLossAlone) {
  const Batch batch = AudioBatchWithLabels();
  auto model_with = [](bool decoder, float aux_weight) {
    std::vector<TaskHead> heads = Heads();
    heads.push_back({"speech", InputModality::kAudio, OutputModality::kSymbols, 0, "words", 12, 20});
    heads.back().aux_ctc_weight = aux_weight;
    heads.back().aux_ctc_classes = 6;
    heads.back().attention_decoder = decoder;
    return std::make_unique<MultiModel>(SmallConfig(), heads, 9);
  };
  const float cross_entropy = model_with(true, 0.f)->Forward(2, batch, RunContext{}).loss.item();
  const float both = model_with(true, 1.f)->Forward(2, batch, RunContext{}).loss.item();
  const std::unique_ptr<MultiModel> ctc_only = model_with(false, 1.f);
  const ForwardResult r = ctc_only->Forward(2, batch, RunContext{});
  EXPECT_NEAR(r.loss.item(), both - cross_entropy, 1e-4);
  EXPECT_GT(r.loss.item(), 0.3f);
  r.loss.Backward();
  int trained = 0;
  for (const auto& [name, t] : ctc_only->NamedParameters()) {
    const bool after_encoder = name.rfind("decoder.", 0) == 0 || name.rfind("mixer.", 0) == 0;
    if (after_encoder) {
      EXPECT_FALSE(t.grad().defined()) << name;
    }
    trained += t.grad().defined();
  }
  EXPECT_GT(trained, 3);
}

// model.matmul_precision: BF16 rounds every product's operands (the routers' excepted): a loss within bf16's
// precision of the f32 one, and not the same.
TEST(MultiModelTest, Bf16MatmulPrecisionIsCloseToF32) {
  std::mt19937 rng(9);
  const Batch batch = SymbolBatch(rng, 3, 6);
  config::TrunkConfig config = SmallConfig();
  const float f32 = MultiModel(config, Heads(), 2).Forward(1, batch, RunContext{}).loss.item();
  config.set_matmul_precision(config::TrunkConfig::BF16);
  const float bf16 = MultiModel(config, Heads(), 2).Forward(1, batch, RunContext{}).loss.item();
  EXPECT_NE(bf16, f32);
  EXPECT_NEAR(bf16, f32, 2e-2f * std::abs(f32));
  EXPECT_EQ(ops::CurrentMatmulPrecision(), ops::MatmulPrecision::kF32);  // the pass's scope has ended
}

// SmallConfig with noisy routers and a load-balancing loss: what the padding tests compare counts routed tokens.
config::TrunkConfig NoisyBalancedConfig() {
  config::TrunkConfig config = SmallConfig();
  for (config::MoeConfig* m : {config.mutable_encoder_moe(), config.mutable_decoder_moe()}) {
    m->set_load_balance_coef(0.01f);
    m->mutable_router()->set_noise(true);
  }
  return config;
}

// Padding is not routed: the same examples padded with three more empty target positions (and input positions)
// give the same loss and the same MoE auxiliary losses, which count the tokens routed.
TEST(MultiModelTest, MoeLayersRouteOnlyRealPositions) {
  std::mt19937 rng(10);
  const Batch batch = SymbolBatch(rng, 3, 5);
  const auto padded = [](const Tensor& ids) {
    std::vector<int64_t> v = ids.ToIndices(), out;
    const int64_t t = ids.dim(1);
    for (int64_t i = 0; i < ids.dim(0); ++i) {
      out.insert(out.end(), v.begin() + i * t, v.begin() + (i + 1) * t);
      out.insert(out.end(), 3, 0);
    }
    return Tensor::FromIndices(out, {ids.dim(0), t + 3});
  };
  Batch longer = batch;
  longer.input_ids = padded(batch.input_ids);
  longer.targets = padded(batch.targets);
  const config::TrunkConfig config = NoisyBalancedConfig();
  MultiModel model(config, Heads(), 4);
  const RunContext run{true, 1, 0};
  const ForwardResult a = model.Forward(1, batch, run), b = model.Forward(1, longer, run);
  EXPECT_NEAR(b.loss.item(), a.loss.item(), 1e-5f);
  EXPECT_GT(a.aux_loss.item(), 0.f);
  EXPECT_NEAR(b.aux_loss.item(), a.aux_loss.item(), 1e-6f);
}

// Audio padding is not heard (at either frame stride): the same utterances (37 and 29 frames) padded to 50 frames
// with noise give the same loss (cross-entropy, CTC, load balancing) and the same transcripts; before, the padding
// went through the front end, the attention and the MoE as if it were sound.
TEST(MultiModelTest, AudioPaddingChangesNothing) {
  std::mt19937 rng(11);
  Batch batch = SymbolBatch(rng, 2, 4);
  batch.input_ids = Tensor();
  batch.audio = onemodel::testing::RandomTensor(rng, {2, 37, 16}, -1.f, 1.f);
  batch.audio_frames = Tensor::FromIndices({37, 29}, {2});
  Batch longer = batch;
  longer.audio = onemodel::testing::RandomTensor(rng, {2, 50, 16}, -1.f, 1.f);
  {
    const std::vector<float> a = batch.audio.ToVector();
    std::vector<float> l = longer.audio.ToVector();
    for (int64_t i = 0; i < 2; ++i) {
      const int64_t frames = i == 0 ? 37 : 29;
      std::copy_n(a.begin() + i * 37 * 16, frames * 16, l.begin() + i * 50 * 16);
    }
    longer.audio = Tensor::FromVector(l, {2, 50, 16});
  }
  for (int stride : {8, 4}) {
    SCOPED_TRACE(stride);
    config::TrunkConfig config = NoisyBalancedConfig();
    config.set_audio_frame_stride(stride);
    std::vector<TaskHead> heads = Heads();
    heads.push_back({"speech", InputModality::kAudio, OutputModality::kSymbols, 0, "words", 12, 16});
    heads.back().ctc_weight = 0.3f;
    MultiModel model(config, heads, 5);
    const RunContext run{true, 1, 0};
    const ForwardResult a = model.Forward(2, batch, run), b = model.Forward(2, longer, run);
    EXPECT_NEAR(b.loss.item(), a.loss.item(), 1e-5f);
    EXPECT_GT(a.aux_loss.item(), 0.f);
    EXPECT_NEAR(b.aux_loss.item(), a.aux_loss.item(), 1e-6f);
    DecodeOptions o;
    o.max_length = 6;
    EXPECT_EQ(model.Generate(2, longer, o), model.Generate(2, batch, o));
  }
}

TEST(MultiModelDeathTest, CtcNeedsAudioInAndSymbolsOut) {
  std::vector<TaskHead> heads = Heads();
  heads[0].ctc_weight = 0.3f;
  EXPECT_DEATH(MultiModel(SmallConfig(), heads, 1), "task vision: a CTC loss needs audio input and symbol output");
}

}  // namespace
}  // namespace onemodel::model
