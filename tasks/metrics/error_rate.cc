#include "tasks/metrics/error_rate.h"

#include <algorithm>
#include <cctype>

#include "glog/logging.h"

namespace onemodel::metrics {
namespace {

// Levenshtein distance with unit costs (one row of the table at a time).
template <typename T>
int64_t EditDistance(const std::vector<T>& ref, const std::vector<T>& hyp) {
  std::vector<int64_t> row(hyp.size() + 1);
  for (size_t j = 0; j <= hyp.size(); ++j) row[j] = static_cast<int64_t>(j);
  for (size_t i = 1; i <= ref.size(); ++i) {
    int64_t diagonal = row[0];
    row[0] = static_cast<int64_t>(i);
    for (size_t j = 1; j <= hyp.size(); ++j) {
      const int64_t above = row[j];
      row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + (ref[i - 1] == hyp[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[hyp.size()];
}

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string Strip(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && IsSpace(s[b])) ++b;
  while (e > b && IsSpace(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::vector<std::string> WordsOf(const std::string& s) {
  std::vector<std::string> words;
  std::string word;
  for (char c : Strip(s)) {
    if (IsSpace(c)) {
      if (!word.empty()) words.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(word);
  return words;
}

// UTF-8 code points (malformed bytes count as one symbol each).
std::vector<uint32_t> CodePointsOf(const std::string& s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    const int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 1;
    uint32_t cp = len == 1 ? c : c & (0xff >> (len + 1));
    for (int k = 1; k < len && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    out.push_back(cp);
    i += len;
  }
  return out;
}

template <typename Split>
ErrorRate Corpus(const std::vector<std::string>& refs, const std::vector<std::string>& hyps, Split split) {
  CHECK_EQ(refs.size(), hyps.size()) << "error rate: " << refs.size() << " references for " << hyps.size()
                                     << " hypotheses";
  ErrorRate r;
  for (size_t i = 0; i < refs.size(); ++i) {
    const auto ref = split(refs[i]);
    r.edits += EditDistance(ref, split(hyps[i]));
    r.reference_symbols += static_cast<int64_t>(ref.size());
  }
  r.rate = r.reference_symbols > 0 ? static_cast<double>(r.edits) / r.reference_symbols : 0.0;
  return r;
}

}  // namespace

ErrorRate WordErrorRate(const std::vector<std::string>& references, const std::vector<std::string>& hypotheses) {
  return Corpus(references, hypotheses, WordsOf);
}

ErrorRate CharacterErrorRate(const std::vector<std::string>& references, const std::vector<std::string>& hypotheses) {
  return Corpus(references, hypotheses, [](const std::string& s) { return CodePointsOf(Strip(s)); });
}

}  // namespace onemodel::metrics
