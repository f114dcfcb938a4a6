#include "tasks/metrics/bleu.h"

#include <cmath>
#include <map>
#include <regex>
#include <sstream>

#include "glog/logging.h"

namespace onemodel::metrics {
namespace {

void ReplaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

std::vector<std::string> Words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

using NgramCounts = std::map<std::vector<std::string>, int64_t>;

NgramCounts Ngrams(const std::vector<std::string>& words, int n) {
  NgramCounts counts;
  for (size_t i = 0; i + n <= words.size(); ++i) ++counts[std::vector<std::string>(words.begin() + i, words.begin() + i + n)];
  return counts;
}

}  // namespace

std::string Tokenize13a(const std::string& input) {
  static const std::regex* const kRules[] = {
      new std::regex(R"(([{-~\[-` -&(-+:-@/]))"),  // punctuation and symbols
      new std::regex(R"(([^0-9])([.,]))"),          // period / comma unless preceded by a digit
      new std::regex(R"(([.,])([^0-9]))"),          // period / comma unless followed by a digit
      new std::regex(R"(([0-9])(-))"),              // dash after a digit
  };
  static const char* const kReplacements[] = {" $1 ", "$1 $2 ", " $1 $2", "$1 $2 "};
  std::string line = input;
  ReplaceAll(line, "<skipped>", "");
  ReplaceAll(line, "-\n", "");
  ReplaceAll(line, "\n", " ");
  if (line.find('&') != std::string::npos) {
    ReplaceAll(line, "&quot;", "\"");
    ReplaceAll(line, "&amp;", "&");
    ReplaceAll(line, "&lt;", "<");
    ReplaceAll(line, "&gt;", ">");
  }
  line = " " + line + " ";
  for (int i = 0; i < 4; ++i) line = std::regex_replace(line, *kRules[i], kReplacements[i]);
  std::string out;
  for (const std::string& w : Words(line)) out += (out.empty() ? "" : " ") + w;
  return out;
}

BleuScore CorpusBleu(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references) {
  CHECK_EQ(hypotheses.size(), references.size()) << "CorpusBleu: " << hypotheses.size() << " hypotheses for "
                                                 << references.size() << " references";
  int64_t correct[4] = {0, 0, 0, 0}, total[4] = {0, 0, 0, 0};
  BleuScore s;
  for (size_t i = 0; i < hypotheses.size(); ++i) {
    const std::vector<std::string> hyp = Words(Tokenize13a(hypotheses[i])), ref = Words(Tokenize13a(references[i]));
    s.hypothesis_length += static_cast<int64_t>(hyp.size());
    s.reference_length += static_cast<int64_t>(ref.size());
    for (int n = 1; n <= 4; ++n) {
      const NgramCounts h = Ngrams(hyp, n), r = Ngrams(ref, n);
      for (const auto& [gram, count] : h) {
        auto it = r.find(gram);
        correct[n - 1] += std::min(count, it == r.end() ? int64_t{0} : it->second);
        total[n - 1] += count;
      }
    }
  }
  const int64_t c = s.hypothesis_length, r = s.reference_length;
  s.brevity_penalty = c < r ? (c > 0 ? std::exp(1.0 - static_cast<double>(r) / c) : 0.0) : 1.0;
  if (correct[0] + correct[1] + correct[2] + correct[3] == 0) return s;
  double smooth = 1, log_sum = 0;
  for (int n = 0; n < 4; ++n) {
    if (total[n] == 0) break;  // as sacrebleu: the missing orders keep precision 0
    if (correct[n] == 0) {
      smooth *= 2;
      s.precisions[n] = 100.0 / (smooth * total[n]);
    } else {
      s.precisions[n] = 100.0 * correct[n] / total[n];
    }
  }
  for (double p : s.precisions) log_sum += p > 0 ? std::log(p) : -9999999999.0;
  s.score = s.brevity_penalty * std::exp(log_sum / 4);
  return s;
}

}  // namespace onemodel::metrics
