#include "data/translation_pairs.h"

#include <fstream>
#include <set>
#include <unordered_set>

#include <zlib.h>

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

// FNV-1a over the sentence, then the seed mixed in: the split must be the same in every process and build
// (absl::Hash is seeded per process).
uint64_t StableHash(const std::string& s, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ (seed * 0x9e3779b97f4a7c15ull);
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h ^ (h >> 29);
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

std::vector<SentencePair> FreedictExamplesOfLine(const std::string& line, bool english_first, int min_words) {
  // `      "source example"  - its translation`
  const size_t open = line.find_first_not_of(' ');
  const size_t close = line.find("\"  - ");
  if (open == std::string::npos || open == 0 || line[open] != '"' || close == std::string::npos || close <= open) {
    return {};
  }
  std::string first = RemoveAnnotations(line.substr(open + 1, close - open - 1));
  std::string second = RemoveAnnotations(line.substr(close + 5));
  SentencePair p = english_first ? SentencePair{second, first} : SentencePair{first, second};
  if (!IsSentence(p.de, min_words) || !IsSentence(p.en, min_words)) return {};
  return {p};
}

absl::StatusOr<TranslationSplits> ReadTranslationPairs(const std::vector<TranslationSource>& sources,
                                                       int test_percent, uint64_t seed, int min_words) {
  if (test_percent < 0 || test_percent > 100) {
    return absl::InvalidArgumentError(absl::StrCat("test_percent ", test_percent, " outside [0, 100]"));
  }
  TranslationSplits splits;
  std::vector<SentencePair> all;
  std::set<std::pair<std::string, std::string>> seen;
  for (const TranslationSource& source : sources) {
    // gzopen reads plain and gzip (dictzip) files alike.
    gzFile in = gzopen(source.path.c_str(), "rb");
    if (in == nullptr) {
      return absl::NotFoundError(absl::StrCat(source.path, ": cannot open (install Debian's ", source.package,
                                              ": onemodel prepare-data does)"));
    }
    int64_t found = 0;
    std::string line;
    char buffer[1 << 16];
    while (gzgets(in, buffer, sizeof(buffer)) != nullptr) {
      line.assign(buffer);
      if (!line.empty() && line.back() == '\n') line.pop_back();
      ++splits.lines_read;
      std::vector<SentencePair> pairs = source.format == TranslationSource::kTrans
                                            ? SentencePairsOfLine(line, min_words)
                                            : FreedictExamplesOfLine(line, source.format == TranslationSource::kFreedictEnDe,
                                                                     min_words);
      for (SentencePair& p : pairs) {
        if (seen.emplace(p.de, p.en).second) {
          all.push_back(std::move(p));
          ++found;
        }
      }
    }
    gzclose(in);
    if (found == 0 && source.format == TranslationSource::kTrans) {
      return absl::DataLossError(absl::StrCat(source.path, ": no sentence pairs found (wrong file?)"));
    }
    splits.pairs_per_source.push_back(found);
  }
  // Test membership by German sentence; then no training pair may share either side with a test pair.
  std::unordered_set<std::string> test_de, test_en;
  for (const SentencePair& p : all) {
    if (StableHash(p.de, seed) % 100 < static_cast<uint64_t>(test_percent)) {
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
