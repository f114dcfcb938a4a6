// Image classification on Fashion-MNIST (Debian's dataset-fashion-mnist): 60k training and 10k test images of
// 28x28 gray pixels in 10 garment classes. Metric: accuracy.
#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/ops/ops.h"
#include "data/batching.h"
#include "data/idx.h"
#include "tasks/task.h"

namespace onemodel::tasks {
namespace {

constexpr char kDefaultDir[] = "/usr/share/datasets/fashion-mnist";

class FashionMnistTask : public Task {
 public:
  FashionMnistTask(const TaskContext& context, data::LabeledImages train, data::LabeledImages test)
      : name_(context.config.name()), batch_size_(context.config.batch_size()), seed_(context.seed),
        stream_(context.stream), train_(std::move(train)), test_(std::move(test)),
        batches_([this](uint32_t epoch) {
          return data::ShuffledBatches(TrainExamples(), batch_size_, seed_, stream_, epoch);
        }) {}

  model::TaskHead Head() const override {
    return {name_, model::InputModality::kImage, model::OutputModality::kClassLabel, 10, "", 0};
  }

  int64_t TrainExamples() const override { return train_.images.dim(0); }

  model::Batch TrainBatch(int64_t position) const override {
    return Gather(train_, batches_.At(position));
  }

  EvalResult Evaluate(const model::MultiModel& model, int task, int64_t examples) const override {
    const int64_t n = examples > 0 ? std::min(examples, test_.images.dim(0)) : test_.images.dim(0);
    int64_t correct = 0;
    for (int64_t begin = 0; begin < n; begin += 500) {
      std::vector<int64_t> rows;
      for (int64_t i = begin; i < std::min(n, begin + 500); ++i) rows.push_back(i);
      const model::Batch batch = Gather(test_, rows);
      const std::vector<int64_t> predicted = model.Classify(task, batch);
      const std::vector<int64_t> truth = batch.targets.ToIndices();
      for (size_t i = 0; i < truth.size(); ++i) correct += predicted[i] == truth[i];
    }
    EvalResult r;
    r.metrics = {{"accuracy", static_cast<double>(correct) / n}};
    r.examples = n;
    return r;
  }

 private:
  static model::Batch Gather(const data::LabeledImages& split, const std::vector<int64_t>& rows) {
    const Tensor index = Tensor::FromIndices(rows, {static_cast<int64_t>(rows.size())});
    model::Batch b;
    b.images = ops::IndexSelect(split.images, index);
    const int64_t* labels = split.labels.data<int64_t>();
    std::vector<int64_t> targets;
    for (int64_t i : rows) targets.push_back(labels[i]);
    b.targets = Tensor::FromIndices(targets, {index.dim(0), 1});
    return b;
  }

  std::string name_;
  int64_t batch_size_;
  uint64_t seed_;
  uint16_t stream_;
  data::LabeledImages train_, test_;
  mutable data::EpochBatches batches_;
};

absl::StatusOr<std::unique_ptr<Task>> Create(const TaskContext& context) {
  absl::Status s = CheckOptions(context, {});
  if (!s.ok()) return s;
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
  return std::unique_ptr<Task>(new FashionMnistTask(context, *std::move(train), *std::move(test)));
}

ONEMODEL_REGISTER_TASK("fashion_mnist", "image classification, Fashion-MNIST (10 classes; metric accuracy)", Create);

}  // namespace
}  // namespace onemodel::tasks
