// Speech decoding into dictionary words through the phoneme CTC output (task option decode: "lexicon"): the
// pronunciation dictionary and the word bigram model are those of the training transcripts (each word's
// dictionary phonemes as the cache records them, a word's variants all kept), and model::CtcLexiconDecoder
// searches word sequences spelt by the phoneme head's output. A closed vocabulary: only words of the training
// transcripts can be written (the real recordings' vocabulary is in the pool, DESIGN §5).
#ifndef ONEMODEL_TASKS_SPEECH_WORD_LEXICON_H_
#define ONEMODEL_TASKS_SPEECH_WORD_LEXICON_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/word_bigram.h"
#include "model/ctc_lexicon_decoder.h"

namespace onemodel::tasks {

class WordLexicon {
 public:
  // `transcripts[i]` (words separated by spaces) and `phonemes[i]` (the phoneme CTC head's labels of its
  // data::PhonemeSymbols, the word boundary "|" between words) of the training utterances; `ids`: the label of each
  // symbol (0 is the blank), read here for the boundary's.
  // Utterances whose phoneme words do not pair one to one with their words (espeak-ng joins a few) are left out.
  static absl::StatusOr<std::unique_ptr<WordLexicon>> Build(const std::vector<std::string>& transcripts,
                                                            const std::vector<std::vector<int>>& phonemes,
                                                            const std::map<std::string, int>& ids,
                                                            model::LexiconDecodeOptions options);

  // The transcript of one example's phoneme CTC log-probabilities ([frames][classes], row-major).
  std::string Decode(const std::vector<float>& log_probs, int64_t classes) const;
  int64_t words() const { return static_cast<int64_t>(words_.size()); }
  int64_t pronunciations() const { return pronunciations_; }

 private:
  WordLexicon(std::vector<std::string> words, std::unique_ptr<data::WordBigram> lm,
              std::unique_ptr<model::CtcLexiconDecoder> decoder, int64_t pronunciations)
      : words_(std::move(words)), lm_(std::move(lm)), decoder_(std::move(decoder)), pronunciations_(pronunciations) {}

  std::vector<std::string> words_;
  std::unique_ptr<data::WordBigram> lm_;
  std::unique_ptr<model::CtcLexiconDecoder> decoder_;
  int64_t pronunciations_;
};

}  // namespace onemodel::tasks

#endif  // ONEMODEL_TASKS_SPEECH_WORD_LEXICON_H_
