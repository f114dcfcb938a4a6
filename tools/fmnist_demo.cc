#include "tools/fmnist_demo.h"

#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "core/autograd.h"
#include "core/module.h"
#include "core/ops/ops.h"
#include "core/rng.h"
#include "core/safetensors.h"
#include "data/idx.h"
#include "train/optimizer_config.h"

namespace onemodel {
namespace {

// RNG purposes (DESIGN §3: the key says what a random number is for).
constexpr uint16_t kInit = 1, kDropout = 2, kShuffle = 3;
// Fashion-MNIST pixel statistics (of the training split, in [0, 1] units).
constexpr float kPixelMean = 0.2860f, kPixelStd = 0.3530f;

Tensor InitUniform(const Shape& shape, float bound, uint64_t seed, uint16_t layer) {
  return RandomUniform(shape, RngKey{seed, 0, layer, kInit}, -bound, bound);
}

// relu(layer_norm(separable_conv(x))): depthwise 3x3 then pointwise, normalized over channels per pixel
// (optional: on raw pixels the norm would erase the contrast between ink and background).
class SeparableConvBlock : public Module {
 public:
  SeparableConvBlock(int64_t in, int64_t out, int64_t stride, bool norm, uint64_t seed, uint16_t layer)
      : stride_(stride), norm_(norm) {
    depthwise_ = RegisterParameter("depthwise", InitUniform({3, 3, in}, std::sqrt(3.f / 9.f), seed, layer));
    pointwise_ = RegisterParameter("pointwise", InitUniform({in, out}, std::sqrt(6.f / in), seed, layer + 100));
    bias_ = RegisterParameter("bias", Tensor::Zeros({out}));
    if (norm) {
      gamma_ = RegisterParameter("norm.gamma", Tensor::Full({out}, 1.f));
      beta_ = RegisterParameter("norm.beta", Tensor::Zeros({out}));
    }
  }
  Tensor Forward(const Tensor& x) const {
    ops::Conv2dOptions o;
    o.stride_h = o.stride_w = stride_;
    o.pad_top = o.pad_bottom = o.pad_left = o.pad_right = 1;
    const Tensor y = ops::SeparableConv2d(x, depthwise_, pointwise_, bias_, o);
    return ops::Relu(norm_ ? ops::LayerNorm(y, gamma_, beta_) : y);
  }

 private:
  int64_t stride_;
  bool norm_;
  Tensor depthwise_, pointwise_, bias_, gamma_, beta_;
};

// [B, 28, 28] pixels -> [B, 10] logits. The stem is a full 3x3 convolution built from separable parts:
// the pixel is copied into 9 channels, each with its own learned 3x3 depthwise filter (a basis of all 3x3
// filters), then mixed pointwise into c channels. Then separable blocks downsample 28 -> 14 -> 7, a
// residual block and a linear head over the flattened 7 x 7 map.
class FashionMnistCnn : public Module {
 public:
  FashionMnistCnn(int64_t c, float dropout, uint64_t seed)
      : stem_(kStemBasis, c, 1, false, seed, 1), block1_(c, 2 * c, 2, true, seed, 2),
        block2_(2 * c, 4 * c, 2, true, seed, 3), block3_(4 * c, 4 * c, 1, true, seed, 4), dropout_(dropout), seed_(seed), replicate_(Tensor::Full({1, kStemBasis}, 1.f)) {
    RegisterModule("stem", &stem_);
    RegisterModule("block1", &block1_);
    RegisterModule("block2", &block2_);
    RegisterModule("block3", &block3_);
    const int64_t features = 7 * 7 * 4 * c;
    head_w_ = RegisterParameter("head.weight", InitUniform({features, 10}, std::sqrt(3.f / features), seed, 5));
    head_b_ = RegisterParameter("head.bias", Tensor::Zeros({10}));
  }

  Tensor Forward(const Tensor& pixels, bool training, uint32_t step) const {
    const int64_t b = pixels.dim(0);
    Tensor x = ops::Scale(ops::AddScalar(ops::Reshape(pixels, {b, 28, 28, 1}), -kPixelMean), 1.f / kPixelStd);
    x = stem_.Forward(ops::MatMul(x, replicate_));
    x = block1_.Forward(x);
    x = block2_.Forward(x);
    x = ops::Add(x, block3_.Forward(x));
    x = ops::Reshape(x, {b, -1});  // keep the 7 x 7 layout: garment classes differ by shape
    x = ops::Dropout(x, dropout_, RngKey{seed_, step, 6, kDropout}, training);
    return ops::BiasAdd(ops::MatMul(x, head_w_), head_b_);
  }

 private:
  static constexpr int64_t kStemBasis = 9;
  SeparableConvBlock stem_, block1_, block2_, block3_;
  float dropout_;
  uint64_t seed_;
  Tensor replicate_;  // [1, 9] ones: copies the pixel into the stem's 9 channels
  Tensor head_w_, head_b_;
};

// A permutation of [0, n) from the counter-based RNG (Fisher-Yates), reproducible everywhere.
std::vector<int64_t> Shuffled(int64_t n, uint64_t seed, uint32_t epoch) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = static_cast<int64_t>(UniformAt(RngKey{seed, epoch, 0, kShuffle}, i) * (i + 1));
    std::swap(order[i], order[std::min(j, i)]);
  }
  return order;
}

int64_t CountCorrect(const Tensor& logits, const Tensor& labels) {
  const std::vector<int64_t> predicted = ops::TopK(logits, 1).indices.ToIndices();
  const std::vector<int64_t> truth = labels.ToIndices();
  int64_t correct = 0;
  for (size_t i = 0; i < truth.size(); ++i) correct += predicted[i] == truth[i];
  return correct;
}

double Evaluate(const FashionMnistCnn& model, const data::LabeledImages& test) {
  NoGradScope no_grad;
  const int64_t n = test.images.dim(0), batch = 1000;
  int64_t correct = 0;
  for (int64_t begin = 0; begin < n; begin += batch) {
    const int64_t end = std::min(n, begin + batch);
    correct += CountCorrect(model.Forward(test.images.Narrow(begin, end), false, 0), test.labels.Narrow(begin, end));
  }
  return static_cast<double>(correct) / n;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

absl::StatusOr<DemoResult> RunFashionMnistDemo(const config::Experiment& config, const std::string& out_dir) {
  const auto start = std::chrono::steady_clock::now();
  const config::FashionMnistDemoConfig& demo = config.fmnist_demo();
  const config::TrainConfig& train_config = config.train();
  if (train_config.batch_size() <= 0) return absl::InvalidArgumentError("config field train.batch_size must be > 0");
  if (train_config.epochs() <= 0) return absl::InvalidArgumentError("config field train.epochs must be > 0");
  if (demo.channels() <= 0) return absl::InvalidArgumentError("config field fmnist_demo.channels must be > 0");
  if (demo.dropout() < 0 || demo.dropout() >= 1) {
    return absl::InvalidArgumentError("config field fmnist_demo.dropout must be in [0, 1)");
  }
  if (train_config.log_every() <= 0) return absl::InvalidArgumentError("config field train.log_every must be > 0");
  if (config.threads() < 0) return absl::InvalidArgumentError("config field threads must be >= 0 (0: all cores)");
  if (config.threads() > 0) omp_set_num_threads(config.threads());

  absl::StatusOr<data::LabeledImages> train = data::ReadFashionMnist(demo.data_dir(), "train");
  if (!train.ok()) return train.status();
  absl::StatusOr<data::LabeledImages> test = data::ReadFashionMnist(demo.data_dir(), "t10k");
  if (!test.ok()) return test.status();
  std::printf("data: %lld train / %lld test images from %s\n", static_cast<long long>(train->images.dim(0)),
              static_cast<long long>(test->images.dim(0)), demo.data_dir().c_str());

  FashionMnistCnn model(demo.channels(), demo.dropout(), config.seed());
  std::printf("model: separable-conv CNN, %lld parameters, %d threads\n",
              static_cast<long long>(model.NumParameters()), omp_get_max_threads());
  const int64_t n = train->images.dim(0), batch = train_config.batch_size();
  const int64_t steps_per_epoch = n / batch;  // the last partial batch of an epoch is dropped
  if (train_config.max_steps() < 0) return absl::InvalidArgumentError("config field train.max_steps must be >= 0");
  int64_t total_steps = steps_per_epoch * train_config.epochs();
  if (train_config.max_steps() > 0) total_steps = std::min(total_steps, train_config.max_steps());
  absl::StatusOr<std::unique_ptr<Optimizer>> optimizer = MakeOptimizer(config.optimizer(), model.NamedParameters());
  if (!optimizer.ok()) return optimizer.status();
  absl::StatusOr<LrSchedule> schedule = MakeSchedule(config.optimizer(), config.schedule(), total_steps);
  if (!schedule.ok()) return schedule.status();

  int64_t step = 0, interval_steps = 0;
  double loss_sum = 0, correct_sum = 0, seen = 0;
  auto interval_start = std::chrono::steady_clock::now();
  for (int epoch = 0; epoch < train_config.epochs(); ++epoch) {
    const std::vector<int64_t> order = Shuffled(n, config.seed(), epoch);
    for (int64_t s = 0; s < steps_per_epoch && step < total_steps; ++s) {
      ++step;
      const Tensor index = Tensor::FromIndices({order.begin() + s * batch, order.begin() + (s + 1) * batch}, {batch});
      const Tensor images = ops::IndexSelect(train->images, index);
      std::vector<int64_t> label_ids(batch);
      const int64_t* all_labels = train->labels.data<int64_t>();
      for (int64_t i = 0; i < batch; ++i) label_ids[i] = all_labels[order[s * batch + i]];
      const Tensor targets = Tensor::FromIndices(label_ids, {batch});
      const Tensor logits = model.Forward(images, true, static_cast<uint32_t>(step));
      const Tensor loss = ops::CrossEntropy(logits, targets);
      (*optimizer)->ZeroGrad();
      loss.Backward();
      if (config.optimizer().clip_norm() > 0) ClipGradNorm(model.Parameters(), config.optimizer().clip_norm());
      (*optimizer)->Step(schedule->At(step));
      loss_sum += loss.item() * batch;
      correct_sum += CountCorrect(logits, targets);
      seen += batch;
      ++interval_steps;
      if (step % train_config.log_every() == 0 || step == total_steps) {
        const double per_step = Seconds(interval_start) / interval_steps;
        std::printf("step %5lld/%lld  epoch %d  loss %.4f  train acc %.3f  lr %.2e  %.0f img/s  ETA %.0fs\n",
                    static_cast<long long>(step), static_cast<long long>(total_steps), epoch + 1, loss_sum / seen,
                    correct_sum / seen, schedule->At(step), batch / per_step, per_step * (total_steps - step));
        std::fflush(stdout);
        loss_sum = correct_sum = seen = 0;
        interval_steps = 0;
        interval_start = std::chrono::steady_clock::now();
      }
    }
  }
  DemoResult result;
  result.test_accuracy = Evaluate(model, *test);
  result.seconds = Seconds(start);
  if (!out_dir.empty()) {
    const std::string path = absl::StrCat(out_dir, "/model.safetensors");
    absl::Status s = WriteSafetensors(path, model.NamedParameters(),
                                      {{"config", config.name()}, {"test_accuracy", absl::StrCat(result.test_accuracy)}});
    if (!s.ok()) return s;
    std::printf("wrote %s\n", path.c_str());
  }
  return result;
}

}  // namespace onemodel
