#include "data/speech_text.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/rng.h"

namespace onemodel::data {
namespace {

const char* const kOnes[] = {"zero",    "one",     "two",       "three",    "four",     "five",    "six",
                             "seven",   "eight",   "nine",      "ten",      "eleven",   "twelve",  "thirteen",
                             "fourteen", "fifteen", "sixteen",  "seventeen", "eighteen", "nineteen"};
const char* const kTens[] = {"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"};

std::string Below1000(int64_t n) {
  std::vector<std::string> words;
  if (n >= 100) {
    words.push_back(absl::StrCat(kOnes[n / 100], " hundred"));
    n %= 100;
    if (n == 0) return words[0];
  }
  if (n < 20) {
    words.push_back(kOnes[n]);
  } else {
    words.push_back(n % 10 == 0 ? std::string(kTens[n / 10]) : absl::StrCat(kTens[n / 10], " ", kOnes[n % 10]));
  }
  return absl::StrJoin(words, " ");
}

}  // namespace

std::string PoolKind(const std::string& transcript) {
  const std::vector<std::string> words = absl::StrSplit(transcript, ' ', absl::SkipEmpty());
  auto all = [&](auto&& is) { return !words.empty() && std::all_of(words.begin(), words.end(), is); };
  auto in = [](const char* const* list, int n, const std::string& w) {
    return std::find(list, list + n, w) != list + n;
  };
  if (all([](const std::string& w) { return w.size() == 1; })) return "letters";
  if (all([&](const std::string& w) { return in(kOnes, 10, w); })) return "digits";
  if (all([&](const std::string& w) {
        return in(kOnes, 20, w) || in(kTens + 2, 8, w) || w == "hundred" || w == "thousand";
      })) {
    return "numbers";
  }
  return "words";
}

std::string NumberWords(int64_t n) {
  if (n < 1000) return Below1000(n);
  const std::string rest = n % 1000 == 0 ? "" : absl::StrCat(" ", Below1000(n % 1000));
  return absl::StrCat(Below1000(n / 1000), " thousand", rest);
}

std::string NormalizeTranscript(const std::string& text) {
  std::vector<std::string> words;
  std::string word, digits;
  auto flush = [&] {
    if (!digits.empty()) {
      words.push_back(digits.size() <= 6 ? NumberWords(std::stoll(digits)) : digits);
      digits.clear();
    }
    if (!word.empty()) words.push_back(word), word.clear();
  };
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (std::isdigit(u)) {
      if (!word.empty()) flush();
      digits += c;
    } else if (std::isalpha(u) || (c == '\'' && !word.empty())) {
      if (!digits.empty()) flush();
      word += static_cast<char>(std::tolower(u));
    } else {
      flush();
      if (c == '#') words.push_back("pound");
      if (c == '*') words.push_back("star");
    }
  }
  flush();
  return absl::StrJoin(words, " ");
}

std::vector<std::string> PhonemeSymbols(const std::string& ipa) {
  std::vector<std::string> out;
  bool boundary = false;
  for (size_t i = 0; i < ipa.size();) {
    const unsigned char lead = static_cast<unsigned char>(ipa[i]);
    const size_t n = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    const std::string symbol = ipa.substr(i, n);
    uint32_t code = n == 1 ? lead : lead & (0x7F >> n);
    for (size_t k = 1; k < n && i + k < ipa.size(); ++k) code = code << 6 | (static_cast<unsigned char>(ipa[i + k]) & 0x3F);
    i += n;
    if (std::isspace(lead)) {
      boundary = !out.empty();
    } else if (code == 0x2C8 || code == 0x2CC) {  // primary and secondary stress
    } else if (!out.empty() && !boundary && ((code >= 0x2B0 && code <= 0x2FF) || (code >= 0x300 && code <= 0x36F))) {
      out.back() += symbol;  // a modifier letter or combining mark belongs to the sound before it
    } else {
      if (boundary) out.push_back("|"), boundary = false;
      out.push_back(symbol);
    }
  }
  return out;
}

std::string PoolUtterance(uint64_t seed, int64_t index, const std::vector<std::string>& vocabulary) {
  const RngKey key{seed, static_cast<uint32_t>(index), 0, 77};
  auto draw = [&](uint64_t i, int64_t n) { return std::min(n - 1, static_cast<int64_t>(UniformAt(key, i) * n)); };
  std::vector<std::string> words;
  switch (draw(0, vocabulary.empty() ? 3 : 4)) {
    case 0: {  // a digit string
      const int64_t n = 1 + draw(1, 7);
      for (int64_t i = 0; i < n; ++i) words.push_back(kOnes[draw(2 + i, 10)]);
      break;
    }
    case 1: {  // a number
      const int64_t magnitude = draw(1, 3);
      words.push_back(NumberWords(draw(2, magnitude == 0 ? 100 : magnitude == 1 ? 1000 : 100000)));
      break;
    }
    case 2: {  // letters
      const int64_t n = 1 + draw(1, 4);
      for (int64_t i = 0; i < n; ++i) words.push_back(std::string(1, static_cast<char>('a' + draw(2 + i, 26))));
      break;
    }
    default: {  // words
      const int64_t n = 1 + draw(1, 6);
      for (int64_t i = 0; i < n; ++i) words.push_back(vocabulary[draw(2 + i, static_cast<int64_t>(vocabulary.size()))]);
    }
  }
  return absl::StrJoin(words, " ");
}

}  // namespace onemodel::data
