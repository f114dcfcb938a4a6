// Translation between German and English, both directions, on the sentence pairs that
// `onemodel prepare-data translation` builds from Debian's trans-de-en (train.tsv / test.tsv: German TAB
// English, test disjoint from training by sentence) with its shared SentencePiece vocabulary. Batches are
// length-bucketed. Metric: corpus BLEU (13a tokenization, as sacrebleu) of decoded, detokenized outputs.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "data/batching.h"
#include "data/subwords.h"
#include "tasks/metrics/bleu.h"
#include "tasks/task.h"
#include "tasks/text_output.h"

namespace onemodel::tasks {
namespace {

struct Example {
  std::string source, target;     // raw text
  std::vector<int> source_ids, target_ids;  // subwords, end-of-sentence appended, cut to max_length
};

absl::StatusOr<std::vector<Example>> ReadSplit(const std::string& path, bool german_source,
                                               const data::SubwordVocab& vocab, int max_length) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::vector<Example> out;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    const std::vector<std::string> fields = absl::StrSplit(line, '\t');
    if (fields.size() != 2 || fields[0].empty() || fields[1].empty()) {
      return absl::DataLossError(absl::StrCat(path, ":", number, ": expected 'German<TAB>English'"));
    }
    Example e;
    e.source = german_source ? fields[0] : fields[1];
    e.target = german_source ? fields[1] : fields[0];
    e.source_ids = TargetIds(vocab, e.source, max_length);
    e.target_ids = TargetIds(vocab, e.target, max_length);
    out.push_back(std::move(e));
  }
  if (out.empty()) return absl::DataLossError(absl::StrCat(path, ": no sentence pairs"));
  return out;
}

class TranslationTask : public Task {
 public:
  TranslationTask(const TaskContext& context, std::shared_ptr<const data::SubwordVocab> vocab,
                  std::vector<Example> train, std::vector<Example> test)
      : name_(context.config.name()), config_(context.config), seed_(context.seed), stream_(context.stream),
        vocab_(std::move(vocab)), train_(std::move(train)), test_(std::move(test)),
        batches_([this](uint32_t epoch) {
          return data::LengthBucketedBatches(lengths_, config_.batch_size(), seed_, stream_, epoch);
        }) {
    for (const Example& e : train_) lengths_.push_back(std::max(e.source_ids.size(), e.target_ids.size()));
  }

  model::TaskHead Head() const override {
    return {name_, model::InputModality::kSymbols, model::OutputModality::kSymbols, 0, kSharedVocabulary, vocab_->size()};
  }

  int64_t TrainExamples() const override { return static_cast<int64_t>(train_.size()); }

  model::Batch TrainBatch(int64_t position) const override {
    return Gather(train_, batches_.At(position));
  }

  EvalResult Evaluate(const model::MultiModel& model, int task, int64_t examples) const override {
    const int64_t n = examples > 0 ? std::min<int64_t>(examples, test_.size()) : test_.size();
    // Decode in batches of similar source length; outputs go back to test order.
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return test_[a].source_ids.size() < test_[b].source_ids.size(); });
    const model::DecodeOptions options = DecodeOptionsOf(config_);
    std::vector<std::string> hypotheses(n), references(n);
    for (int64_t begin = 0; begin < n; begin += kEvalBatch) {
      const std::vector<int64_t> rows(order.begin() + begin, order.begin() + std::min(n, begin + kEvalBatch));
      const std::vector<std::vector<int>> out = model.Generate(task, Gather(test_, rows), options);
      for (size_t i = 0; i < rows.size(); ++i) hypotheses[rows[i]] = vocab_->Decode(out[i]);
    }
    for (int64_t i = 0; i < n; ++i) references[i] = test_[i].target;
    const metrics::BleuScore bleu = metrics::CorpusBleu(hypotheses, references);
    EvalResult r;
    r.metrics = {{"bleu", bleu.score}, {"brevity_penalty", bleu.brevity_penalty}};
    r.examples = n;
    for (int64_t i = 0; i < std::min<int64_t>(n, 2); ++i) {
      r.samples.push_back(absl::StrCat(test_[i].source, " => ", hypotheses[i], "  (reference: ", references[i], ")"));
    }
    return r;
  }

 private:
  static constexpr int64_t kEvalBatch = 64;

  static model::Batch Gather(const std::vector<Example>& split, const std::vector<int64_t>& rows) {
    std::vector<const std::vector<int>*> sources, targets;
    for (int64_t i : rows) {
      sources.push_back(&split[i].source_ids);
      targets.push_back(&split[i].target_ids);
    }
    model::Batch b;
    b.input_ids = PaddedIds(sources);
    b.targets = PaddedIds(targets);
    return b;
  }

  std::string name_;
  config::TaskConfig config_;
  uint64_t seed_;
  uint16_t stream_;
  std::shared_ptr<const data::SubwordVocab> vocab_;
  std::vector<Example> train_, test_;
  std::vector<int64_t> lengths_;
  mutable data::EpochBatches batches_;
};

absl::StatusOr<std::unique_ptr<Task>> Create(const TaskContext& context, bool german_source) {
  absl::Status s = CheckOptions(context, {});
  if (!s.ok()) return s;
  if (s = CheckDecodingFields(context); !s.ok()) return s;
  const config::TaskConfig& c = context.config;
  const std::string dir = c.has_data_dir() ? c.data_dir() : kTranslationCacheDir;
  if (!std::filesystem::is_directory(dir)) {
    return absl::NotFoundError(absl::StrCat("config field ", context.field, ".data_dir: ", dir,
                                            " is not a directory; build it with `onemodel prepare-data translation`"));
  }
  absl::StatusOr<std::shared_ptr<const data::SubwordVocab>> vocab = data::SubwordVocab::Load(dir + "/subwords.model");
  if (!vocab.ok()) return vocab.status();
  absl::StatusOr<std::vector<Example>> train = ReadSplit(dir + "/train.tsv", german_source, **vocab, c.max_length());
  if (!train.ok()) return train.status();
  absl::StatusOr<std::vector<Example>> test = ReadSplit(dir + "/test.tsv", german_source, **vocab, c.max_length());
  if (!test.ok()) return test.status();
  return std::unique_ptr<Task>(new TranslationTask(context, *std::move(vocab), *std::move(train), *std::move(test)));
}

ONEMODEL_REGISTER_TASK("translate_de_en", "German -> English sentences, trans-de-en (metric BLEU)",
                       [](const TaskContext& c) { return Create(c, true); });
ONEMODEL_REGISTER_TASK("translate_en_de", "English -> German sentences, trans-de-en (metric BLEU)",
                       [](const TaskContext& c) { return Create(c, false); });

}  // namespace
}  // namespace onemodel::tasks
