// Image classification on Fashion-MNIST (Debian's dataset-fashion-mnist): 60k training and 10k test images of
// 28x28 gray pixels in 10 garment classes. Metric: accuracy.
// Option `output`: "class" (default) reads the class through the class-label modality; "text" has the decoder
// write the garment's name as the captions name an item ("an ankle boot", in the shared subwords of option
// `vocab_dir`), and an image counts as right where the greedy decoding is that phrase exactly. Text output trains
// the same naming that captioning needs (the caption_fashion task names four such items per composite), so the two
// tasks share it instead of each learning its own.
#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/ops/ops.h"
#include "data/batching.h"
#include "data/composites.h"
#include "data/idx.h"
#include "data/subwords.h"
#include "tasks/task.h"
#include "tasks/text_output.h"

namespace onemodel::tasks {
namespace {

constexpr char kDefaultDir[] = "/usr/share/datasets/fashion-mnist";

class FashionMnistTask : public Task {
 public:
  // `vocab` null: class-label output; otherwise text output in that vocabulary.
  FashionMnistTask(const TaskContext& context, data::LabeledImages train, data::LabeledImages test,
                   std::shared_ptr<const data::SubwordVocab> vocab)
      : name_(context.config.name()), config_(context.config), seed_(context.seed), stream_(context.stream),
        train_(std::move(train)), test_(std::move(test)), vocab_(std::move(vocab)),
        batches_([this](uint32_t epoch) {
          return data::ShuffledBatches(TrainExamples(), config_.batch_size(), seed_, stream_, epoch);
        }) {
    if (vocab_ == nullptr) return;
    for (int64_t label = 0; label < static_cast<int64_t>(data::FashionMnistNames().size()); ++label) {
      phrase_ids_.push_back(TargetIds(*vocab_, data::ItemPhrase(label), config_.max_length()));
    }
  }

  model::TaskHead Head() const override {
    if (vocab_ != nullptr) {
      return {name_, model::InputModality::kImage, model::OutputModality::kSymbols, 0, kSharedVocabulary,
              vocab_->size()};
    }
    return {name_, model::InputModality::kImage, model::OutputModality::kClassLabel, 10, "", 0};
  }

  int64_t TrainExamples() const override { return train_.images.dim(0); }

  model::Batch TrainBatch(int64_t position) const override {
    return Gather(train_, batches_.At(position));
  }

  EvalResult Evaluate(const model::MultiModel& model, int task, int64_t examples) const override {
    const int64_t n = examples > 0 ? std::min(examples, test_.images.dim(0)) : test_.images.dim(0);
    int64_t correct = 0;
    std::string sample;
    for (int64_t begin = 0; begin < n; begin += 500) {
      std::vector<int64_t> rows;
      for (int64_t i = begin; i < std::min(n, begin + 500); ++i) rows.push_back(i);
      const model::Batch batch = Gather(test_, rows);
      if (vocab_ == nullptr) {
        const std::vector<int64_t> predicted = model.Classify(task, batch);
        for (size_t i = 0; i < rows.size(); ++i) correct += predicted[i] == Label(test_, rows[i]);
        continue;
      }
      const std::vector<std::vector<int>> written = model.Generate(task, batch, DecodeOptionsOf(config_));
      for (size_t i = 0; i < rows.size(); ++i) {
        const std::string text = vocab_->Decode(written[i]), meant = data::ItemPhrase(Label(test_, rows[i]));
        correct += text == meant;
        if (sample.empty()) sample = absl::StrCat("image 0 => ", text, "  (reference: ", meant, ")");
      }
    }
    EvalResult r;
    r.metrics = {{"accuracy", static_cast<double>(correct) / n}};
    r.examples = n;
    if (!sample.empty()) r.samples.push_back(sample);
    return r;
  }

 private:
  static int64_t Label(const data::LabeledImages& split, int64_t row) { return split.labels.data<int64_t>()[row]; }

  model::Batch Gather(const data::LabeledImages& split, const std::vector<int64_t>& rows) const {
    const Tensor index = Tensor::FromIndices(rows, {static_cast<int64_t>(rows.size())});
    model::Batch b;
    b.images = ops::IndexSelect(split.images, index);
    if (vocab_ != nullptr) {
      std::vector<const std::vector<int>*> targets;
      for (int64_t i : rows) targets.push_back(&phrase_ids_[Label(split, i)]);
      b.targets = PaddedIds(targets);
      return b;
    }
    std::vector<int64_t> targets;
    for (int64_t i : rows) targets.push_back(Label(split, i));
    b.targets = Tensor::FromIndices(targets, {index.dim(0), 1});
    return b;
  }

  std::string name_;
  config::TaskConfig config_;
  uint64_t seed_;
  uint16_t stream_;
  data::LabeledImages train_, test_;
  std::shared_ptr<const data::SubwordVocab> vocab_;
  std::vector<std::vector<int>> phrase_ids_;  // text output: each class's phrase, end of sentence included
  mutable data::EpochBatches batches_;
};

// The vocabulary for option `output` "text" (null for "class"), or an error naming the field.
absl::StatusOr<std::shared_ptr<const data::SubwordVocab>> OutputVocab(const TaskContext& context) {
  const std::string output = OptionOr(context, "output", "class");
  if (output == "class") {
    if (context.config.options().count("vocab_dir") > 0) {
      return absl::InvalidArgumentError(absl::StrCat(OptionField(context, "vocab_dir"),
                                                     ": only text output (option output \"text\") has a vocabulary"));
    }
    return std::shared_ptr<const data::SubwordVocab>();
  }
  if (output != "text") {
    return absl::InvalidArgumentError(
        absl::StrCat(OptionField(context, "output"), ": \"", output, "\" is neither \"class\" nor \"text\""));
  }
  if (absl::Status s = CheckDecodingFields(context); !s.ok()) return s;
  absl::StatusOr<std::shared_ptr<const data::SubwordVocab>> vocab = LoadVocabOption(context);
  if (!vocab.ok()) return vocab.status();
  std::vector<std::string> phrases;
  for (int64_t label = 0; label < static_cast<int64_t>(data::FashionMnistNames().size()); ++label) {
    phrases.push_back(data::ItemPhrase(label));
  }
  const auto [longest, longest_ids] = LongestTarget(**vocab, phrases);
  if (longest_ids > context.config.max_length()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config field ", context.field, ".max_length: ", context.config.max_length(),
        " would cut class names (the longest, \"", longest, "\", is ", longest_ids,
        " subwords with its end of sentence)"));
  }
  return vocab;
}

absl::StatusOr<std::unique_ptr<Task>> Create(const TaskContext& context) {
  absl::Status s = CheckOptions(context, {"output", "vocab_dir"});
  if (!s.ok()) return s;
  absl::StatusOr<std::shared_ptr<const data::SubwordVocab>> vocab = OutputVocab(context);
  if (!vocab.ok()) return vocab.status();
  const std::string dir = context.config.has_data_dir() ? context.config.data_dir() : kDefaultDir;
  if (!std::filesystem::is_directory(dir)) {
    return absl::NotFoundError(absl::StrCat("config field ", context.field, ".data_dir: ", dir,
                                            " is not a directory (Debian package dataset-fashion-mnist)"));
  }
  absl::StatusOr<data::LabeledImages> train = data::ReadFashionMnist(dir, "train");
  if (!train.ok()) return train.status();
  absl::StatusOr<data::LabeledImages> test = data::ReadFashionMnist(dir, "t10k");
  if (!test.ok()) return test.status();
  if (train->images.dim(0) < context.config.batch_size()) {
    return absl::InvalidArgumentError(absl::StrCat("config field ", context.field, ".batch_size: ",
                                                   context.config.batch_size(), " exceeds the training set"));
  }
  return std::unique_ptr<Task>(
      new FashionMnistTask(context, *std::move(train), *std::move(test), *std::move(vocab)));
}

ONEMODEL_REGISTER_TASK("fashion_mnist",
                       "image classification, Fashion-MNIST (10 classes; metric accuracy; output: class label or text)",
                       Create);

}  // namespace
}  // namespace onemodel::tasks
