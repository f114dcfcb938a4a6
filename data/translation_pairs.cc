#include "data/translation_pairs.h"

#include <fstream>
#include <set>
#include <unordered_set>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace onemodel::data {
namespace {

// Removes {..} and [..] annotations and collapses the spaces they leave.
std::string RemoveAnnotations(const std::string& s) {
  std::string out;
  int depth = 0;
  for (char c : s) {
    if (c == '{' || c == '[') ++depth;
    if (depth == 0) out += c;
    if ((c == '}' || c == ']') && depth > 0) --depth;
  }
  std::string collapsed;
  for (char c : out) {
    if (c == ' ' && (collapsed.empty() || collapsed.back() == ' ')) continue;
    collapsed += c;
  }
  while (!collapsed.empty() && collapsed.back() == ' ') collapsed.pop_back();
  // An annotation before final punctuation leaves "word ." behind.
  for (const char* p : {" .", " !", " ?"}) {
    if (collapsed.size() >= 2 && collapsed.compare(collapsed.size() - 2, 2, p) == 0) collapsed.erase(collapsed.size() - 2, 1);
  }
  return collapsed;
}

bool IsSentence(const std::string& s, int min_words) {
  if (s.empty()) return false;
  const char last = s.back();
  if (last != '.' && last != '!' && last != '?') return false;
  int words = 0;
  for (absl::string_view w : absl::StrSplit(s, ' ', absl::SkipEmpty())) words += !w.empty();
  return words >= min_words;
}

}  // namespace

std::vector<SentencePair> SentencePairsOfLine(const std::string& line, int min_words) {
  std::vector<SentencePair> pairs;
  if (line.empty() || line[0] == '#') return pairs;
  const std::vector<std::string> sides = absl::StrSplit(line, " :: ");
  if (sides.size() != 2) return pairs;
  const std::vector<std::string> de_fields = absl::StrSplit(sides[0], " | ");
  const std::vector<std::string> en_fields = absl::StrSplit(sides[1], " | ");
  if (de_fields.size() != en_fields.size()) return pairs;
  for (size_t f = 0; f < de_fields.size(); ++f) {
    const std::vector<std::string> de_variants = absl::StrSplit(de_fields[f], "; ");
    const std::vector<std::string> en_variants = absl::StrSplit(en_fields[f], "; ");
    // Variants pair up when both sides list the same number; otherwise only the first ones are a pair.
    const size_t n = de_variants.size() == en_variants.size() ? de_variants.size() : 1;
    for (size_t v = 0; v < n; ++v) {
      SentencePair p{RemoveAnnotations(de_variants[v]), RemoveAnnotations(en_variants[v])};
      if (IsSentence(p.de, min_words) && IsSentence(p.en, min_words)) pairs.push_back(std::move(p));
    }
  }
  return pairs;
}

absl::StatusOr<TranslationSplits> ReadTranslationPairs(const std::string& path, int test_percent, uint64_t seed,
                                                       int min_words) {
  if (test_percent < 0 || test_percent > 100) {
    return absl::InvalidArgumentError(absl::StrCat("test_percent ", test_percent, " outside [0, 100]"));
  }
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open (install Debian's trans-de-en: onemodel prepare-data)"));
  }
  TranslationSplits splits;
  std::vector<SentencePair> all;
  std::set<std::pair<std::string, std::string>> seen;
  for (std::string line; std::getline(in, line);) {
    ++splits.lines_read;
    for (SentencePair& p : SentencePairsOfLine(line, min_words)) {
      if (seen.emplace(p.de, p.en).second) all.push_back(std::move(p));
    }
  }
  if (all.empty()) return absl::DataLossError(absl::StrCat(path, ": no sentence pairs found (wrong file?)"));
  // Test membership by German sentence; then no training pair may share either side with a test pair.
  std::unordered_set<std::string> test_de, test_en;
  for (const SentencePair& p : all) {
    if (absl::HashOf(p.de, seed) % 100 < static_cast<uint64_t>(test_percent)) {
      test_de.insert(p.de);
      test_en.insert(p.en);
    }
  }
  for (SentencePair& p : all) {
    if (test_de.count(p.de)) {
      splits.test.push_back(std::move(p));
    } else if (test_en.count(p.en)) {
      ++splits.dropped_for_overlap;
    } else {
      splits.train.push_back(std::move(p));
    }
  }
  return splits;
}

}  // namespace onemodel::data
