// Benchmark of the lexicon-constrained CTC search (model/ctc_lexicon_decoder) against flashlight's LexiconDecoder
// (PyPI flashlight-text, the decoder torchaudio and fairseq use) on the same synthetic problem in the same run: a
// 700-word lexicon of 2-7 phonemes over 44 labels (+ blank, + word boundary), as the speech task's, and 200
// utterances of 1-6 words whose CTC outputs put each path label 6 nats above Gaussian noise. No language model on
// either side (flashlight's ZeroLM; lm_weight 0 here), the boundary optional between words on both (flashlight's
// "silence"; missing_boundary 0 here), alignments summed on both (log-add), one thread each, widths 128 and 512.
// Prints ms per utterance, the WER against the words that made the outputs, and how often the two searches write
// the same words.
//
// Run: bazel run //model:ctc_lexicon_decoder_bench
//   (the reference: ONEMODEL_TORCH_PYTHON from tools/bench/setup_torch.sh, which installs flashlight-text)
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "glog/logging.h"
#include "model/ctc_lexicon_decoder.h"
#include "tasks/metrics/error_rate.h"

namespace onemodel::model {
namespace {

constexpr int kBlank = 0, kBoundary = 1, kClasses = 46, kWords = 700, kUtterances = 200;
constexpr float kPathLogit = 6.f, kNoise = 1.5f;

struct Problem {
  std::vector<std::pair<int, std::vector<int>>> lexicon;
  std::vector<std::vector<float>> log_probs;  // per utterance [frames][kClasses]
  std::vector<std::string> truth;             // word ids, space-separated
};

Problem MakeProblem() {
  std::mt19937 rng(2026);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Problem p;
  std::set<std::vector<int>> spelt;  // no homophones: the two searches would break their ties differently
  while (static_cast<int>(p.lexicon.size()) < kWords) {
    std::vector<int> labels(uniform(2, 7));
    for (int& l : labels) l = uniform(2, kClasses - 1);
    if (spelt.insert(labels).second) p.lexicon.push_back({static_cast<int>(p.lexicon.size()), labels});
  }
  std::normal_distribution<float> noise(0.f, kNoise);
  for (int u = 0; u < kUtterances; ++u) {
    std::vector<int> path(uniform(2, 5), kBlank), words(uniform(1, 6));
    for (size_t i = 0; i < words.size(); ++i) {
      words[i] = uniform(0, kWords - 1);
      if (i > 0) path.insert(path.end(), uniform(1, 2), kBoundary);
      const std::vector<int>& labels = p.lexicon[words[i]].second;
      for (size_t k = 0; k < labels.size(); ++k) {
        if (path.back() == labels[k] || uniform(0, 1) == 1) path.push_back(kBlank);  // a repeat needs a blank between
        // A word's last label lasts one frame: flashlight's search ends a word on the frame its last label starts
        // and cannot hold that label after it (its lexicons end each word with the boundary instead).
        path.insert(path.end(), k + 1 < labels.size() ? uniform(1, 3) : 1, labels[k]);
      }
    }
    path.insert(path.end(), uniform(2, 5), kBlank);
    std::vector<float> lp(path.size() * kClasses);
    for (size_t t = 0; t < path.size(); ++t) {
      float* row = lp.data() + t * kClasses;
      double sum = 0;
      for (int c = 0; c < kClasses; ++c) sum += std::exp(row[c] = noise(rng) + (c == path[t] ? kPathLogit : 0.f));
      for (int c = 0; c < kClasses; ++c) row[c] -= static_cast<float>(std::log(sum));
    }
    p.log_probs.push_back(std::move(lp));
    p.truth.push_back(absl::StrJoin(words, " "));
  }
  return p;
}

struct Run {
  double ms_per_utterance = 0;
  std::vector<std::string> words;
};

Run Ours(const Problem& p, int beam) {
  LexiconDecodeOptions options;
  options.beam = beam;
  options.lm_weight = 0;
  options.label_floor = -std::numeric_limits<float>::infinity();  // every label tried at every frame, as flashlight
  options.missing_boundary = 0;  // flashlight's word boundary ("silence") is optional between words
  const CtcLexiconDecoder decoder(p.lexicon, kBlank, kBoundary, [](int, int) { return 0.f; }, options);
  Run r;
  const auto start = std::chrono::steady_clock::now();
  for (const std::vector<float>& lp : p.log_probs) {
    r.words.push_back(absl::StrJoin(decoder.Decode(lp, static_cast<int64_t>(lp.size()) / kClasses, kClasses), " "));
  }
  r.ms_per_utterance =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / kUtterances;
  return r;
}

// flashlight-text through tools/bench/lexicon_flashlight.py on the problem written to `dir`; empty without
// ONEMODEL_TORCH_PYTHON or when it fails.
std::map<int, Run> Flashlight(const Problem& p, const std::vector<int>& beams, const std::string& dir) {
  std::map<int, Run> out;
  const char* python = std::getenv("ONEMODEL_TORCH_PYTHON");
  if (python == nullptr) return out;
  std::ofstream lexicon(dir + "/lexicon.txt"), frames(dir + "/frames.txt");
  for (const auto& [word, labels] : p.lexicon) lexicon << word << " " << absl::StrJoin(labels, " ") << "\n";
  std::ofstream emissions(dir + "/emissions.f32", std::ios::binary);
  for (const std::vector<float>& lp : p.log_probs) {
    frames << lp.size() / kClasses << "\n";
    emissions.write(reinterpret_cast<const char*>(lp.data()), static_cast<std::streamsize>(lp.size() * sizeof(float)));
  }
  lexicon.close(), frames.close(), emissions.close();
  const std::string command = absl::StrCat("'", python, "' tools/bench/lexicon_flashlight.py --dir '", dir,
                                           "' --classes ", kClasses, " --blank ", kBlank, " --boundary ", kBoundary,
                                           " --beams ", absl::StrJoin(beams, ","));
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char line[256];
  while (std::fgets(line, sizeof(line), pipe) != nullptr) {
    int beam = 0;
    double ms = 0;
    if (std::sscanf(line, "FLASHLIGHT beam=%d ms_per_utterance=%lf", &beam, &ms) != 2) continue;
    std::ifstream words(absl::StrCat(dir, "/words_", beam, ".txt"));
    Run r{ms, {}};
    for (std::string w; std::getline(words, w);) r.words.push_back(w);
    if (r.words.size() == p.truth.size()) out[beam] = r;
  }
  if (pclose(pipe) != 0) {
    std::printf("flashlight: %s failed (its errors above)\n", command.c_str());
    out.clear();
  }
  return out;
}

double Agreement(const Run& a, const Run& b) {
  int same = 0;
  for (size_t i = 0; i < a.words.size(); ++i) same += a.words[i] == b.words[i];
  return static_cast<double>(same) / a.words.size();
}

int Main() {
  const Problem p = MakeProblem();
  const std::vector<int> beams = {128, 512};
  char dir[] = "/tmp/lexicon_bench.XXXXXX";
  CHECK(mkdtemp(dir) != nullptr);
  const std::map<int, Run> theirs = Flashlight(p, beams, dir);
  std::filesystem::remove_all(dir);
  double ratio = 0;
  for (int beam : beams) {
    const Run ours = Ours(p, beam);
    std::printf("beam %4d: onemodel %.2f ms/utterance, WER %.3f", beam, ours.ms_per_utterance,
                metrics::WordErrorRate(p.truth, ours.words).rate);
    auto it = theirs.find(beam);
    if (it == theirs.end()) {
      std::printf("; flashlight: skipped (ONEMODEL_TORCH_PYTHON unset or failing; tools/bench/setup_torch.sh)\n");
      continue;
    }
    ratio = it->second.ms_per_utterance / ours.ms_per_utterance;
    std::printf("; flashlight %.2f ms/utterance, WER %.3f; %.2fx faster, the same words in %.1f %% of utterances\n",
                it->second.ms_per_utterance, metrics::WordErrorRate(p.truth, it->second.words).rate, ratio,
                100 * Agreement(ours, it->second));
  }
  if (theirs.count(beams.back()) == 0) {
    std::printf("BENCH ctc_lexicon_decoder speedup_vs_flashlight=skipped\n");
  } else {
    std::printf("BENCH ctc_lexicon_decoder beam=%d speedup_vs_flashlight=%.3f\n", beams.back(), ratio);
  }
  return 0;
}

}  // namespace
}  // namespace onemodel::model

int main() {
  if (const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY"); workspace != nullptr) {
    CHECK_EQ(::chdir(workspace), 0) << workspace;
  }
  return onemodel::model::Main();
}
