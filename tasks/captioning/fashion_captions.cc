// Image captioning on 2x2 composites of Fashion-MNIST items (DESIGN §5): the caption names the four items in
// reading order ("a shirt , a bag , an ankle boot and a dress"). Training composites are drawn from the train
// split afresh at every position (a pure function of it); the test set is 2,500 fixed composites of the t10k
// split, each test image used once. Captions are English subwords of the translation vocabulary (option
// `vocab_dir`, default data_cache/translation): captioning and translation share one symbol modality.
// Metrics: corpus BLEU (13a, 0-100), exact match of the decoded caption and the fraction of items named right in
// their place (`item_accuracy`), on the composites and (`real_bleu`,
// `real_exact_match`; reported, no target) on the Tux Paint stamps with their one-line descriptions (option
// `real_dir`, default /usr/share/tuxpaint/stamps from Debian tuxpaint-stamps-default; data/stamps.h): real drawings
// of things the composites never show, so it measures how far the captioner is from captioning at all.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/rng.h"
#include "data/batching.h"
#include "data/composites.h"
#include "data/idx.h"
#include "data/stamps.h"
#include "data/subwords.h"
#include "tasks/metrics/bleu.h"
#include "tasks/task.h"
#include "tasks/text_output.h"

namespace onemodel::tasks {
namespace {

constexpr char kDefaultImages[] = "/usr/share/datasets/fashion-mnist";
constexpr char kDefaultStamps[] = "/usr/share/tuxpaint/stamps";
constexpr uint64_t kTestSeed = 2026;  // the test composites do not depend on the experiment's seed
constexpr int64_t kEvalBatch = 100;

class FashionCaptionsTask : public Task {
 public:
  FashionCaptionsTask(const TaskContext& context, std::shared_ptr<const data::SubwordVocab> vocab,
                      data::LabeledImages train, data::Composites test, data::CaptionedImages real)
      : name_(context.config.name()), config_(context.config), seed_(context.seed), stream_(context.stream),
        vocab_(std::move(vocab)), train_(std::move(train)), test_(std::move(test)), real_(std::move(real)) {}

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
    const std::vector<std::string> hypotheses = Caption(model, task, test_.images, examples);
    const std::vector<std::string> references(test_.captions.begin(), test_.captions.begin() + hypotheses.size());
    EvalResult r;
    r.metrics = {{"exact_match", ExactMatch(hypotheses, references)},
                 {"item_accuracy", ItemAccuracy(hypotheses, references)},
                 {"bleu", metrics::CorpusBleu(hypotheses, references).score}};
    r.examples = static_cast<int64_t>(hypotheses.size());
    for (size_t i = 0; i < std::min<size_t>(hypotheses.size(), 2); ++i) {
      r.samples.push_back(absl::StrCat("composite ", i, " => ", hypotheses[i], "  (reference: ", references[i], ")"));
    }
    if (real_.captions.empty()) return r;
    const std::vector<std::string> real = Caption(model, task, real_.images, examples);
    const std::vector<std::string> real_refs(real_.captions.begin(), real_.captions.begin() + real.size());
    r.metrics.push_back({"real_exact_match", ExactMatch(real, real_refs)});
    r.metrics.push_back({"real_bleu", metrics::CorpusBleu(real, real_refs).score});
    r.examples += static_cast<int64_t>(real.size());
    r.samples.push_back(absl::StrCat("stamp 0 => ", real[0], "  (reference: ", real_refs[0], ")"));
    return r;
  }

 private:
  // Decoded captions of the first `examples` (0: all) of `images` [N, side, side].
  std::vector<std::string> Caption(const model::MultiModel& model, int task, const Tensor& images,
                                   int64_t examples) const {
    const int64_t n = examples > 0 ? std::min(examples, images.dim(0)) : images.dim(0);
    const model::DecodeOptions options = DecodeOptionsOf(config_);
    std::vector<std::string> out;
    for (int64_t begin = 0; begin < n; begin += kEvalBatch) {
      const int64_t end = std::min(n, begin + kEvalBatch);
      model::Batch batch;
      batch.images = images.Narrow(begin, end);
      batch.targets = Tensor::Zeros({end - begin, 1}, DType::kI64);  // the batch size; decoding ignores targets
      for (const std::vector<int>& ids : model.Generate(task, batch, options)) out.push_back(vocab_->Decode(ids));
    }
    return out;
  }

  static double ExactMatch(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references) {
    int64_t exact = 0;
    for (size_t i = 0; i < hypotheses.size(); ++i) exact += hypotheses[i] == references[i];
    return hypotheses.empty() ? 0.0 : static_cast<double>(exact) / hypotheses.size();
  }

  // The fraction of the composites' items named right in their place. Where each item is right with probability p,
  // exact match is about p^4: this tells a captioner that misses an item here and there from one that gets the
  // caption's form wrong.
  static double ItemAccuracy(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references) {
    int64_t right = 0, items = 0;
    for (size_t i = 0; i < hypotheses.size(); ++i) {
      const std::vector<std::string> said = data::CaptionItems(hypotheses[i]);
      const std::vector<std::string> meant = data::CaptionItems(references[i]);
      for (size_t k = 0; k < meant.size(); ++k) right += k < said.size() && said[k] == meant[k];
      items += static_cast<int64_t>(meant.size());
    }
    return items == 0 ? 0.0 : static_cast<double>(right) / items;
  }

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
  data::CaptionedImages real_;  // empty: no stamps installed
};

// Subwords of the longest caption, end of sentence included. Pieces do not cross spaces, so a caption is as long as
// its parts: the longest names one longest item four times.
int LongestCaption(const data::SubwordVocab& vocab) {
  std::vector<std::string> captions;
  for (int64_t label = 0; label < static_cast<int64_t>(data::FashionMnistNames().size()); ++label) {
    captions.push_back(data::CompositeCaption({label, label, label, label}));
  }
  return LongestTarget(vocab, captions).second;
}

absl::StatusOr<std::unique_ptr<Task>> Create(const TaskContext& context) {
  absl::Status s = CheckOptions(context, {"vocab_dir", "real_dir"});
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
  if (const int longest = LongestCaption(**vocab); c.max_length() < longest) {
    // A cut caption can never match its reference, and training on cut captions teaches the cut: with 24, 28% of
    // the captions lost (part of) their fourth item.
    return absl::InvalidArgumentError(absl::StrCat(
        "config field ", context.field, ".max_length: ", c.max_length(), " would cut captions (the longest is ",
        longest, " subwords with its end of sentence); set it to at least ", longest));
  }
  absl::StatusOr<data::LabeledImages> train = data::ReadFashionMnist(images, "train");
  if (!train.ok()) return train.status();
  absl::StatusOr<data::LabeledImages> test = data::ReadFashionMnist(images, "t10k");
  if (!test.ok()) return test.status();
  const int64_t test_items = test->images.dim(0) / 4 * 4;
  std::vector<int64_t> order = data::Shuffled(test->images.dim(0), kTestSeed, 0, 0);
  order.resize(test_items);
  data::Composites composites = data::MakeComposites(*test, order);
  // The stamps: an error where the config names a directory that is not there; where the default is missing, the
  // task evaluates without them (and says so).
  const std::string stamps_dir = OptionOr(context, "real_dir", kDefaultStamps);
  data::CaptionedImages real;
  const bool named = context.config.options().count("real_dir") > 0;
  if (named || std::filesystem::is_directory(stamps_dir)) {
    absl::StatusOr<data::CaptionedImages> stamps = data::ReadStamps(stamps_dir, composites.images.dim(1));
    if (!stamps.ok()) {
      const std::string field = absl::StrCat(OptionField(context, "real_dir"), named ? "" : " (default)");
      return absl::Status(stamps.status().code(), absl::StrCat(field, ": ", stamps.status().message()));
    }
    for (const std::string& why : stamps->skipped) {
      std::fprintf(stderr, "%s: skipped %s\n", context.config.name().c_str(), why.c_str());
    }
    real = *std::move(stamps);
  } else {
    std::fprintf(stderr, "%s: no real captioning set (%s missing: install tuxpaint-stamps-default)\n",
                 context.config.name().c_str(), stamps_dir.c_str());
  }
  return std::unique_ptr<Task>(new FashionCaptionsTask(context, *std::move(vocab), *std::move(train),
                                                       std::move(composites), std::move(real)));
}

ONEMODEL_REGISTER_TASK("caption_fashion",
                       "captions of 2x2 Fashion-MNIST composites; Tux Paint stamps as a real set (exact match, BLEU)",
                       Create);

}  // namespace
}  // namespace onemodel::tasks
