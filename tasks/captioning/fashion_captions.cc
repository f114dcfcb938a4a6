// Image captioning on 2x2 composites of Fashion-MNIST items (DESIGN §5): the caption names the four items in
// reading order ("a shirt , a bag , an ankle boot and a dress"). Training composites are drawn from the train
// split afresh at every position (a pure function of it); the test set is 2,500 fixed composites of the t10k
// split, each test image used once. Captions are English subwords of the translation vocabulary (option
// `vocab_dir`, default data_cache/translation): captioning and translation share one symbol modality.
// Metrics: corpus BLEU (13a, 0-100) and exact match of the decoded caption.
#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/rng.h"
#include "data/batching.h"
#include "data/composites.h"
#include "data/idx.h"
#include "data/subwords.h"
#include "tasks/metrics/bleu.h"
#include "tasks/task.h"
#include "tasks/text_output.h"

namespace onemodel::tasks {
namespace {

constexpr char kDefaultImages[] = "/usr/share/datasets/fashion-mnist";
constexpr uint64_t kTestSeed = 2026;  // the test composites do not depend on the experiment's seed
constexpr int64_t kEvalBatch = 100;

class FashionCaptionsTask : public Task {
 public:
  FashionCaptionsTask(const TaskContext& context, std::shared_ptr<const data::SubwordVocab> vocab,
                      data::LabeledImages train, data::Composites test)
      : name_(context.config.name()), config_(context.config), seed_(context.seed), stream_(context.stream),
        vocab_(std::move(vocab)), train_(std::move(train)), test_(std::move(test)) {}

  model::TaskHead Head() const override {
    return {name_, model::InputModality::kImage, model::OutputModality::kSymbols, 0, kSharedVocabulary, vocab_->size()};
  }

  // Four training items per composite.
  int64_t TrainExamples() const override { return train_.images.dim(0) / 4; }

  model::Batch TrainBatch(int64_t position) const override {
    const int64_t b = config_.batch_size(), n = train_.images.dim(0);
    std::vector<int64_t> items(4 * b);
    const RngKey key{seed_, static_cast<uint32_t>(position), stream_, 61};
    for (size_t i = 0; i < items.size(); ++i) {
      items[i] = std::min<int64_t>(n - 1, static_cast<int64_t>(UniformAt(key, i) * n));
    }
    return Batch(data::MakeComposites(train_, items));
  }

  EvalResult Evaluate(const model::MultiModel& model, int task, int64_t examples) const override {
    const int64_t total = test_.images.dim(0);
    const int64_t n = examples > 0 ? std::min(examples, total) : total;
    const model::DecodeOptions options = DecodeOptionsOf(config_);
    std::vector<std::string> hypotheses, references;
    int64_t exact = 0;
    for (int64_t begin = 0; begin < n; begin += kEvalBatch) {
      const int64_t end = std::min(n, begin + kEvalBatch);
      model::Batch batch;
      batch.images = test_.images.Narrow(begin, end);
      batch.targets = Tensor::Zeros({end - begin, 1}, DType::kI64);  // the batch size; decoding ignores targets
      const std::vector<std::vector<int>> out = model.Generate(task, batch, options);
      for (int64_t i = begin; i < end; ++i) {
        hypotheses.push_back(vocab_->Decode(out[i - begin]));
        references.push_back(test_.captions[i]);
        exact += hypotheses.back() == references.back();
      }
    }
    EvalResult r;
    r.metrics = {{"exact_match", static_cast<double>(exact) / n},
                 {"bleu", metrics::CorpusBleu(hypotheses, references).score}};
    r.examples = n;
    for (int64_t i = 0; i < std::min<int64_t>(n, 2); ++i) {
      r.samples.push_back(absl::StrCat("composite ", i, " => ", hypotheses[i], "  (reference: ", references[i], ")"));
    }
    return r;
  }

 private:
  model::Batch Batch(const data::Composites& c) const {
    std::vector<std::vector<int>> captions;
    for (const std::string& text : c.captions) captions.push_back(TargetIds(*vocab_, text, config_.max_length()));
    std::vector<const std::vector<int>*> rows;
    for (const auto& ids : captions) rows.push_back(&ids);
    model::Batch b;
    b.images = c.images;
    b.targets = PaddedIds(rows);
    return b;
  }

  std::string name_;
  config::TaskConfig config_;
  uint64_t seed_;
  uint16_t stream_;
  std::shared_ptr<const data::SubwordVocab> vocab_;
  data::LabeledImages train_;
  data::Composites test_;
};

absl::StatusOr<std::unique_ptr<Task>> Create(const TaskContext& context) {
  absl::Status s = CheckOptions(context, {"vocab_dir"});
  if (!s.ok()) return s;
  if (s = CheckDecodingFields(context); !s.ok()) return s;
  const config::TaskConfig& c = context.config;
  const std::string images = c.has_data_dir() ? c.data_dir() : kDefaultImages;
  if (!std::filesystem::is_directory(images)) {
    return absl::NotFoundError(absl::StrCat("config field ", context.field, ".data_dir: ", images,
                                            " is not a directory (Debian package dataset-fashion-mnist)"));
  }
  absl::StatusOr<std::shared_ptr<const data::SubwordVocab>> vocab = LoadVocabOption(context);
  if (!vocab.ok()) return vocab.status();
  absl::StatusOr<data::LabeledImages> train = data::ReadFashionMnist(images, "train");
  if (!train.ok()) return train.status();
  absl::StatusOr<data::LabeledImages> test = data::ReadFashionMnist(images, "t10k");
  if (!test.ok()) return test.status();
  const int64_t test_items = test->images.dim(0) / 4 * 4;
  std::vector<int64_t> order = data::Shuffled(test->images.dim(0), kTestSeed, 0, 0);
  order.resize(test_items);
  data::Composites composites = data::MakeComposites(*test, order);
  return std::unique_ptr<Task>(
      new FashionCaptionsTask(context, *std::move(vocab), *std::move(train), std::move(composites)));
}

ONEMODEL_REGISTER_TASK("caption_fashion", "captions of 2x2 Fashion-MNIST composites (metrics exact match, BLEU)",
                       Create);

}  // namespace
}  // namespace onemodel::tasks
