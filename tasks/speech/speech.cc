// Speech recognition (DESIGN §5) on the cache `onemodel prepare-data speech` builds: 40-band log-mel frames of
// espeak-ng utterances (train; dev in held-out voices) and of the human recordings of asterisk-core-sounds-en
// (real). Transcripts are English subwords of the translation vocabulary (option `vocab_dir`, default
// data_cache/translation): speech, captioning and translation share one symbol modality. Features are normalized
// per utterance (each band to mean 0, variance 1). Metrics: WER (headline) and CER on the held-out voices, and on
// the real recordings: all, and their digits/ numbers; and the held-out WER of each kind of utterance
// (wer_digits, wer_numbers, wer_letters, wer_words). Option `spec_augment` ("F=8,mF=2,p=0.05,mT=4"; default none)
// masks training features (data/spec_augment.h); option `mel_warp` (e.g. "0.2"; default 0, at most 0.5) stretches
// each training utterance's mel bands by a random factor in [1 - w, 1 + w] first (data/mel_warp.h). Option
// `ctc_weight` (default 0) adds a CTC loss on the encoder states (model::TaskHead::ctc_weight); option
// `decode_ctc_weight` (0..1, default 0; needs ctc_weight) decodes jointly with that CTC output
// (model::DecodeOptions::ctc_weight). Option `phoneme_ctc_weight` (default 0) adds a
// CTC loss over each training transcript's dictionary phonemes (the fourth column of a cache built with
// `prepare-data speech --phonemes`; model::TaskHead::aux_ctc_weight), numbered by the training split's symbols.
// Option `decode` ("subwords", the default: the attention decoder; "lexicon": needs phoneme_ctc_weight) chooses
// how transcripts are written: "lexicon" searches the phoneme CTC output for the likeliest sequence of the training
// transcripts' words under their dictionary pronunciations and a word bigram model of the training transcripts,
// weighted by option `lm_weight` (default 1), each word adding option `word_bonus` (default 0;
// tasks/speech/word_lexicon.h); option `missing_boundary_cost` (absent: words are boundary-separated) lets a word
// follow the previous one without the boundary label, at that cost; option `lexicon_beam` (default 512) is how many
// hypotheses the search keeps after each frame (model::LexiconDecodeOptions::beam). The task's beam_size and
// decode_ctc_weight apply to "subwords". Option `attention_decoder` ("true", the default; "false": needs decode
// "lexicon") says whether the task trains the attention decoder at all: without it a speech step trains the encoder
// through its CTC losses only.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/safetensors.h"
#include "data/batching.h"
#include "data/mel_warp.h"
#include "data/spec_augment.h"
#include "data/speech_builder.h"
#include "data/speech_text.h"
#include "data/subwords.h"
#include "model/modalities.h"
#include "tasks/metrics/error_rate.h"
#include "tasks/speech/word_lexicon.h"
#include "tasks/task.h"
#include "tasks/text_output.h"

namespace onemodel::tasks {
namespace {

constexpr char kDefaultDir[] = "data_cache/speech";
constexpr int64_t kEvalBatch = 32;
constexpr uint16_t kSpecAugmentPurpose = 63, kMelWarpPurpose = 64;

struct Utterance {
  std::vector<float> frames;  // [T, mels], normalized
  std::vector<float> floor;   // [mels]: each band's minimum, the padding after the utterance
  std::string group, transcript;
  std::vector<std::string> phonemes;  // training utterances of a --phonemes cache: data::PhonemeSymbols
  std::vector<int> target_ids;  // subwords + end of sentence
  std::vector<int> phoneme_ids;  // ids of `phonemes` in the training split's inventory (1..), when trained on
  int64_t length() const { return static_cast<int64_t>(frames.size()) / data::kSpeechMels; }
};

absl::StatusOr<std::vector<Utterance>> ReadSplit(const std::string& dir, const std::string& name,
                                                 const data::SubwordVocab& vocab, int max_length) {
  const std::string tsv_path = absl::StrCat(dir, "/", name, ".tsv"), st_path = absl::StrCat(dir, "/", name, ".safetensors");
  absl::StatusOr<SafetensorsReader> reader = SafetensorsReader::Open(st_path);
  if (!reader.ok()) return reader.status();
  absl::StatusOr<Tensor> features = reader->Read("features"), frames = reader->Read("frames");
  if (!features.ok()) return features.status();
  if (!frames.ok()) return frames.status();
  const int mels = data::kSpeechMels;
  if (features->ndim() != 2 || features->dim(1) != mels) {
    return absl::DataLossError(absl::StrCat(st_path, ": features are ", ShapeToString(features->shape()),
                                            ", expected [frames, ", mels, "] (rebuild with prepare-data speech)"));
  }
  std::ifstream in(tsv_path);
  if (!in) return absl::NotFoundError(absl::StrCat(tsv_path, ": cannot open"));
  const std::vector<int64_t> counts = frames->ToIndices();
  const float* f = features->data<float>();
  std::vector<Utterance> out;
  std::string line;
  int64_t at = 0;
  for (size_t i = 0; std::getline(in, line); ++i) {
    const std::vector<std::string> fields = absl::StrSplit(line, '\t');
    // Caches built before phonemes were recorded have three columns.
    if (fields.size() < 3 || fields.size() > 4 || i >= counts.size() || at + counts[i] > features->dim(0)) {
      return absl::DataLossError(absl::StrCat(tsv_path, ":", i + 1, ": expected 'source<TAB>group<TAB>transcript"
                                              "[<TAB>phonemes]' matching ", st_path));
    }
    Utterance u;
    u.group = fields[1];
    u.transcript = fields[2];
    if (fields.size() == 4) u.phonemes = absl::StrSplit(fields[3], ' ', absl::SkipEmpty());
    const int64_t t = counts[i];
    u.frames.assign(f + at * mels, f + (at + t) * mels);
    at += t;
    u.floor.assign(mels, 0.f);
    for (int m = 0; m < mels; ++m) {
      double mean = 0, square = 0;
      for (int64_t j = 0; j < t; ++j) mean += u.frames[j * mels + m];
      mean /= t;
      for (int64_t j = 0; j < t; ++j) square += (u.frames[j * mels + m] - mean) * (u.frames[j * mels + m] - mean);
      const double scale = 1 / std::sqrt(square / t + 1e-5);
      float low = 1e9f;
      for (int64_t j = 0; j < t; ++j) {
        float& v = u.frames[j * mels + m];
        v = static_cast<float>((v - mean) * scale);
        low = std::min(low, v);
      }
      u.floor[m] = low;
    }
    u.target_ids = TargetIds(vocab, u.transcript, max_length);
    out.push_back(std::move(u));
  }
  if (out.size() != counts.size()) {
    return absl::DataLossError(absl::StrCat(tsv_path, ": ", out.size(), " lines for ", counts.size(), " utterances"));
  }
  return out;
}

// What a training batch's features go through (options spec_augment and mel_warp).
struct Augmentation {
  data::SpecAugmentPolicy masks;
  float mel_warp = 0;  // data::MelWarpFactor's max_warp (0: none)
};

// The losses besides the decoder's cross-entropy, the decoding's use of the CTC output and whether the attention
// decoder trains (options of the same names).
struct CtcWeights {
  float ctc = 0, decode_ctc = 0, phoneme_ctc = 0;
  bool attention_decoder = true;
  int64_t phonemes = 0;  // the training split's phoneme symbols (phoneme_ctc > 0)
};

class SpeechTask : public Task {
 public:
  // `lexicon`: decode into its words through the phoneme CTC output (null: with the attention decoder).
  SpeechTask(const TaskContext& context, std::shared_ptr<const data::SubwordVocab> vocab, std::vector<Utterance> train,
             std::vector<Utterance> dev, std::vector<Utterance> real, Augmentation augment,
             CtcWeights weights, std::unique_ptr<WordLexicon> lexicon)
      : name_(context.config.name()), config_(context.config), seed_(context.seed), stream_(context.stream),
        augment_(augment), weights_(weights), lexicon_(std::move(lexicon)), vocab_(std::move(vocab)),
        train_(std::move(train)), dev_(std::move(dev)), real_(std::move(real)),
        batches_([this](uint32_t epoch) {
          return data::LengthBucketedBatches(lengths_, config_.batch_size(), seed_, stream_, epoch);
        }) {
    for (const Utterance& u : train_) lengths_.push_back(u.length());
  }

  model::TaskHead Head() const override {
    model::TaskHead head{name_, model::InputModality::kAudio, model::OutputModality::kSymbols, 0, kSharedVocabulary,
                         vocab_->size(), data::kSpeechMels};
    head.ctc_weight = weights_.ctc;
    head.attention_decoder = weights_.attention_decoder;
    if (weights_.phoneme_ctc > 0) {
      head.aux_ctc_weight = weights_.phoneme_ctc;
      head.aux_ctc_classes = weights_.phonemes + 1;
    }
    return head;
  }

  int64_t TrainExamples() const override { return static_cast<int64_t>(train_.size()); }

  model::Batch TrainBatch(int64_t position) const override {
    const std::vector<int64_t> rows = batches_.At(position);
    model::Batch batch = Gather(train_, rows);
    const int64_t longest = batch.audio.dim(1);
    const RngKey warp_key{seed_, static_cast<uint32_t>(position), stream_, kMelWarpPurpose},
        mask_key{seed_, static_cast<uint32_t>(position), stream_, kSpecAugmentPurpose};
    for (size_t k = 0; k < rows.size(); ++k) {
      float* frames = batch.audio.data<float>() + k * longest * data::kSpeechMels;
      const int64_t length = train_[rows[k]].length();
      if (augment_.mel_warp > 0) {
        data::WarpMelBands(data::MelWarpFactor(augment_.mel_warp, warp_key, k), length, data::kSpeechMels, frames);
      }
      if (augment_.masks.enabled()) {
        data::ApplySpecAugment(augment_.masks, mask_key, k, length, data::kSpeechMels, frames);
      }
    }
    return batch;
  }

  EvalResult Evaluate(const model::MultiModel& model, int task, int64_t examples) const override {
    const std::vector<std::string> dev = Transcribe(model, task, dev_, examples);
    const std::vector<std::string> real = Transcribe(model, task, real_, examples);
    std::vector<std::string> dev_refs, real_refs, digit_refs, digit_hyps;
    for (size_t i = 0; i < dev.size(); ++i) dev_refs.push_back(dev_[i].transcript);
    for (size_t i = 0; i < real.size(); ++i) {
      real_refs.push_back(real_[i].transcript);
      if (real_[i].group == "digits") digit_refs.push_back(real_[i].transcript), digit_hyps.push_back(real[i]);
    }
    EvalResult r;
    r.metrics = {{"wer", metrics::WordErrorRate(dev_refs, dev).rate},
                 {"cer", metrics::CharacterErrorRate(dev_refs, dev).rate},
                 {"real_wer", metrics::WordErrorRate(real_refs, real).rate},
                 {"real_cer", metrics::CharacterErrorRate(real_refs, real).rate}};
    if (!digit_refs.empty()) r.metrics.push_back({"real_digits_wer", metrics::WordErrorRate(digit_refs, digit_hyps).rate});
    // The held-out WER of each kind of utterance in the pool (digits, numbers, letters, words).
    std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> kinds;
    for (size_t i = 0; i < dev.size(); ++i) {
      auto& [refs, hyps] = kinds[data::PoolKind(dev_refs[i])];
      refs.push_back(dev_refs[i]);
      hyps.push_back(dev[i]);
    }
    for (const auto& [kind, pairs] : kinds) {
      r.metrics.push_back({absl::StrCat("wer_", kind), metrics::WordErrorRate(pairs.first, pairs.second).rate});
    }
    r.examples = static_cast<int64_t>(dev.size() + real.size());
    for (size_t i = 0; i < std::min<size_t>(dev.size(), 2); ++i) {
      r.samples.push_back(absl::StrCat("held-out voice => ", dev[i], "  (reference: ", dev_refs[i], ")"));
    }
    for (size_t i = 0; i < real.size() && r.samples.size() < 4; i += std::max<size_t>(1, real.size() / 2)) {
      r.samples.push_back(absl::StrCat("recording => ", real[i], "  (reference: ", real_refs[i], ")"));
    }
    return r;
  }

 private:
  // Greedy (or beam, or lexicon) transcripts of the first `examples` (0: all) of `split`, decoded in batches of
  // similar length.
  std::vector<std::string> Transcribe(const model::MultiModel& model, int task, const std::vector<Utterance>& split,
                                      int64_t examples) const {
    const int64_t n = examples > 0 ? std::min<int64_t>(examples, split.size()) : split.size();
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return split[a].length() < split[b].length(); });
    model::DecodeOptions options = DecodeOptionsOf(config_);
    options.ctc_weight = weights_.decode_ctc;
    std::vector<std::string> out(n);
    for (int64_t begin = 0; begin < n; begin += kEvalBatch) {
      const std::vector<int64_t> rows(order.begin() + begin, order.begin() + std::min(n, begin + kEvalBatch));
      if (lexicon_) {
        const std::vector<std::vector<float>> log_probs = model.AuxiliaryCtcLogProbs(task, Gather(split, rows));
        // One search per thread: each is serial, and a batch's take from a few ms to a second each.
#pragma omp parallel for schedule(dynamic, 1)
        for (size_t i = 0; i < rows.size(); ++i) out[rows[i]] = lexicon_->Decode(log_probs[i], weights_.phonemes + 1);
        continue;
      }
      const std::vector<std::vector<int>> ids = model.Generate(task, Gather(split, rows), options);
      for (size_t i = 0; i < rows.size(); ++i) out[rows[i]] = vocab_->Decode(ids[i]);
    }
    return out;
  }

  static model::Batch Gather(const std::vector<Utterance>& split, const std::vector<int64_t>& rows) {
    const int mels = data::kSpeechMels;
    int64_t longest = 0;
    std::vector<const std::vector<int>*> targets, phonemes;
    std::vector<int64_t> frames;
    for (int64_t i : rows) {
      longest = std::max(longest, split[i].length());
      targets.push_back(&split[i].target_ids);
      if (!split[i].phoneme_ids.empty()) phonemes.push_back(&split[i].phoneme_ids);
      frames.push_back(split[i].length());
    }
    const int64_t b = static_cast<int64_t>(rows.size());
    std::vector<float> audio(b * longest * mels);
    for (int64_t k = 0; k < b; ++k) {
      const Utterance& u = split[rows[k]];
      float* dst = audio.data() + k * longest * mels;
      std::copy(u.frames.begin(), u.frames.end(), dst);
      for (int64_t j = u.length(); j < longest; ++j) std::copy(u.floor.begin(), u.floor.end(), dst + j * mels);
    }
    model::Batch batch;
    batch.audio = Tensor::FromVector(audio, {b, longest, mels});
    batch.audio_frames = Tensor::FromIndices(frames, {b});
    batch.targets = PaddedIds(targets);
    // Training utterances carry their phoneme ids when the phoneme CTC loss is on (every one of them, then).
    if (!phonemes.empty()) batch.ctc_labels = PaddedIds(phonemes);
    return batch;
  }

  std::string name_;
  config::TaskConfig config_;
  uint64_t seed_;
  uint16_t stream_;
  Augmentation augment_;
  CtcWeights weights_;
  std::unique_ptr<WordLexicon> lexicon_;
  std::shared_ptr<const data::SubwordVocab> vocab_;
  std::vector<Utterance> train_, dev_, real_;
  std::vector<int64_t> lengths_;
  mutable data::EpochBatches batches_;
};

// CTC aligns each label to at least one encoder position, plus a blank between repeated labels: a transcript that
// needs more positions than its audio gives has no alignment and trains the decoder only. Says how many there are
// at 80 ms per position (model.audio_frame_stride 8; the task does not know the model's stride, and at 40 ms
// fewer misfit).
void ReportCtcMisfits(const std::string& task, const std::vector<Utterance>& train) {
  int64_t misfits = 0;
  for (const Utterance& u : train) {
    int64_t needed = 0;
    for (size_t i = 0; i < u.target_ids.size(); ++i) {
      if (u.target_ids[i] == data::kEosId) continue;
      needed += 1 + (i > 0 && u.target_ids[i] == u.target_ids[i - 1]);
    }
    misfits += needed > model::AudioModality::Positions(u.length(), 8);
  }
  if (misfits > 0) {
    std::fprintf(stderr,
                 "%s: %lld of %zu training transcripts need more encoder positions than their audio gives at 80 ms "
                 "per position; at that stride they train without the CTC loss\n",
                 task.c_str(), static_cast<long long>(misfits), train.size());
  }
}

// Numbers every training utterance's phonemes by the sorted inventory of the split's symbols (1.., 0 is CTC's
// blank); returns the inventory. A cache without phonemes (built without --phonemes) is an error.
absl::StatusOr<std::map<std::string, int>> NumberPhonemes(const std::string& tsv_path, std::vector<Utterance>& train) {
  std::map<std::string, int> ids;
  for (const Utterance& u : train) {
    if (u.phonemes.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(tsv_path, ": an utterance without phonemes (\"", u.transcript,
                                                        "\"); option phoneme_ctc_weight needs a cache built by "
                                                        "`onemodel prepare-data speech --phonemes`"));
    }
    for (const std::string& p : u.phonemes) ids.emplace(p, 0);
  }
  int next = 0;
  for (auto& [symbol, id] : ids) id = ++next;
  for (Utterance& u : train) {
    for (const std::string& p : u.phonemes) u.phoneme_ids.push_back(ids.at(p));
  }
  return ids;
}

// Option `key` as a number in [0, most] (absent: `absent`).
absl::StatusOr<float> WeightOption(const TaskContext& context, const std::string& key, float most,
                                   const char* absent = "0") {
  float weight = 0;
  const std::string text = OptionOr(context, key, absent);
  if (!absl::SimpleAtof(text, &weight) || !std::isfinite(weight) || weight < 0 || weight > most) {
    return absl::InvalidArgumentError(absl::StrCat(OptionField(context, key), ": \"", text, "\" is not a number >= 0",
                                                   std::isinf(most) ? "" : absl::StrCat(" and <= ", most)));
  }
  return weight;
}

// Option `key`: `absent` (also its value when not set) or `other`.
absl::StatusOr<std::string> EitherOption(const TaskContext& context, const std::string& key, const std::string& absent,
                                         const std::string& other) {
  std::string value = OptionOr(context, key, absent);
  if (value != absent && value != other) {
    return absl::InvalidArgumentError(absl::StrCat(OptionField(context, key), ": \"", value, "\" is neither \"",
                                                   absent, "\" nor \"", other, "\""));
  }
  return value;
}

absl::StatusOr<std::unique_ptr<Task>> Create(const TaskContext& context) {
  absl::Status s =
      CheckOptions(context, {"vocab_dir", "spec_augment", "ctc_weight", "decode_ctc_weight", "phoneme_ctc_weight",
                             "decode", "lm_weight", "word_bonus", "missing_boundary_cost", "lexicon_beam",
                             "attention_decoder", "mel_warp"});
  if (!s.ok()) return s;
  if (s = CheckDecodingFields(context); !s.ok()) return s;
  const config::TaskConfig& c = context.config;
  const std::string dir = c.has_data_dir() ? c.data_dir() : kDefaultDir;
  if (!std::filesystem::is_directory(dir)) {
    return absl::NotFoundError(absl::StrCat("config field ", context.field, ".data_dir: ", dir,
                                            " is not a directory; build it with `onemodel prepare-data speech`"));
  }
  absl::StatusOr<data::SpecAugmentPolicy> augment =
      data::ParseSpecAugment(OptionOr(context, "spec_augment", ""), OptionField(context, "spec_augment"));
  if (!augment.ok()) return augment.status();
  absl::StatusOr<float> mel_warp = WeightOption(context, "mel_warp", 0.5f);
  if (!mel_warp.ok()) return mel_warp.status();
  absl::StatusOr<float> ctc_weight = WeightOption(context, "ctc_weight", std::numeric_limits<float>::infinity());
  if (!ctc_weight.ok()) return ctc_weight.status();
  absl::StatusOr<float> decode_ctc_weight = WeightOption(context, "decode_ctc_weight", 1);
  if (!decode_ctc_weight.ok()) return decode_ctc_weight.status();
  absl::StatusOr<float> phoneme_ctc_weight =
      WeightOption(context, "phoneme_ctc_weight", std::numeric_limits<float>::infinity());
  if (!phoneme_ctc_weight.ok()) return phoneme_ctc_weight.status();
  if (*decode_ctc_weight > 0 && *ctc_weight == 0) {
    return absl::InvalidArgumentError(absl::StrCat(OptionField(context, "decode_ctc_weight"),
                                                   ": decoding with the CTC output needs options[ctc_weight] > 0"));
  }
  absl::StatusOr<std::string> decode_option = EitherOption(context, "decode", "subwords", "lexicon");
  if (!decode_option.ok()) return decode_option.status();
  const std::string decode = *decode_option;
  if (decode == "lexicon" && *phoneme_ctc_weight == 0) {
    return absl::InvalidArgumentError(absl::StrCat(OptionField(context, "decode"), ": decoding with the lexicon ",
                                                   "needs options[phoneme_ctc_weight] > 0"));
  }
  absl::StatusOr<std::string> attention_decoder = EitherOption(context, "attention_decoder", "true", "false");
  if (!attention_decoder.ok()) return attention_decoder.status();
  if (*attention_decoder == "false" && decode != "lexicon") {
    return absl::InvalidArgumentError(absl::StrCat(OptionField(context, "attention_decoder"),
                                                   ": without the attention decoder speech decodes with "
                                                   "options[decode] = \"lexicon\""));
  }
  absl::StatusOr<float> lm_weight = WeightOption(context, "lm_weight", std::numeric_limits<float>::infinity(), "1");
  if (!lm_weight.ok()) return lm_weight.status();
  absl::StatusOr<float> word_bonus = WeightOption(context, "word_bonus", std::numeric_limits<float>::infinity());
  if (!word_bonus.ok()) return word_bonus.status();
  absl::StatusOr<float> missing_boundary_cost =
      WeightOption(context, "missing_boundary_cost", std::numeric_limits<float>::infinity());
  if (!missing_boundary_cost.ok()) return missing_boundary_cost.status();
  int lexicon_beam = model::LexiconDecodeOptions().beam;
  if (const std::string beam = OptionOr(context, "lexicon_beam", absl::StrCat(lexicon_beam));
      !absl::SimpleAtoi(beam, &lexicon_beam) || lexicon_beam < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(OptionField(context, "lexicon_beam"), ": \"", beam, "\" is not a whole number >= 1"));
  }
  absl::StatusOr<std::shared_ptr<const data::SubwordVocab>> vocab = LoadVocabOption(context);
  if (!vocab.ok()) return vocab.status();
  std::vector<Utterance> splits[3];
  const char* names[3] = {"train", "dev", "real"};
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<std::vector<Utterance>> split = ReadSplit(dir, names[i], **vocab, c.max_length());
    if (!split.ok()) return split.status();
    splits[i] = *std::move(split);
  }
  if (*ctc_weight > 0) ReportCtcMisfits(c.name(), splits[0]);
  CtcWeights weights{*ctc_weight, *decode_ctc_weight, *phoneme_ctc_weight, *attention_decoder == "true"};
  std::unique_ptr<WordLexicon> lexicon;
  if (weights.phoneme_ctc > 0) {
    const std::string train_tsv = absl::StrCat(dir, "/train.tsv");
    absl::StatusOr<std::map<std::string, int>> phonemes = NumberPhonemes(train_tsv, splits[0]);
    if (!phonemes.ok()) return phonemes.status();
    weights.phonemes = static_cast<int64_t>(phonemes->size());
    if (decode == "lexicon") {
      std::vector<std::string> transcripts;
      std::vector<std::vector<int>> labels;
      for (const Utterance& u : splits[0]) transcripts.push_back(u.transcript), labels.push_back(u.phoneme_ids);
      model::LexiconDecodeOptions options;
      options.lm_weight = *lm_weight;
      options.word_bonus = *word_bonus;
      if (c.options().count("missing_boundary_cost") > 0) options.missing_boundary = -*missing_boundary_cost;
      options.beam = lexicon_beam;
      absl::StatusOr<std::unique_ptr<WordLexicon>> built = WordLexicon::Build(transcripts, labels, *phonemes, options);
      if (!built.ok()) return absl::FailedPreconditionError(absl::StrCat(train_tsv, ": ", built.status().message()));
      lexicon = *std::move(built);
      std::printf("task %s: decodes into %lld training words (%lld pronunciations) through its phoneme output\n",
                  c.name().c_str(), static_cast<long long>(lexicon->words()),
                  static_cast<long long>(lexicon->pronunciations()));
    }
  }
  return std::unique_ptr<Task>(new SpeechTask(context, *std::move(vocab), std::move(splits[0]), std::move(splits[1]),
                                              std::move(splits[2]), Augmentation{*augment, *mel_warp}, weights,
                                              std::move(lexicon)));
}

ONEMODEL_REGISTER_TASK("speech_recognition",
                       "English speech -> transcript: espeak-ng voices, asterisk recordings (metrics WER, CER)", Create);

}  // namespace
}  // namespace onemodel::tasks
