// Text for the speech task (DESIGN §5): transcripts in lower-case words, numbers spelled out, and the pool the
// synthetic training utterances are drawn from (digit strings, numbers, letters, words of a vocabulary).
#ifndef ONEMODEL_DATA_SPEECH_TEXT_H_
#define ONEMODEL_DATA_SPEECH_TEXT_H_

#include <cstdint>
#include <string>
#include <vector>

namespace onemodel::data {

// 0 <= n < 1,000,000 in words: "four thousand two hundred eleven".
std::string NumberWords(int64_t n);

// A transcript as the model writes it: lower case, numbers spelled out, '#' as "pound", '*' as "star",
// other punctuation dropped, single spaces.
std::string NormalizeTranscript(const std::string& text);

// Utterance `index` of a pool mixing digit strings (1-7 digits), numbers, spelled letters and 1-6 words of
// `vocabulary`, drawn from (seed, index).
std::string PoolUtterance(uint64_t seed, int64_t index, const std::vector<std::string>& vocabulary);

// Which of the pool's kinds a transcript reads as: "digits" (digit words only), "numbers" (number words),
// "letters" (single letters) or "words" (anything else). Per-kind error rates show what a model has learnt.
std::string PoolKind(const std::string& transcript);

// espeak-ng's IPA (`--ipa`) as phoneme symbols: stress marks dropped, a modifier letter (length ː, palatal ʲ) or
// combining mark kept with the symbol before it, each run of spaces or line breaks (espeak-ng writes a clause per
// line) one word boundary "|" between words. "tˈuː θɹˈiː" -> t uː | θ ɹ iː.
std::vector<std::string> PhonemeSymbols(const std::string& ipa);

}  // namespace onemodel::data

#endif  // ONEMODEL_DATA_SPEECH_TEXT_H_
