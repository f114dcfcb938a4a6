// Lexicon-constrained CTC beam search (the decoding of CTC acoustic models over a pronunciation dictionary and a
// word language model, as in Graves & Jaitly 2014 and flashlight's LexiconDecoder): the CTC output is over
// sub-word units (e.g. phonemes, with a word-boundary unit between words); only label sequences that spell
// dictionary words, boundary-separated, are hypotheses; each word adds lm_weight x its language-model
// log-probability and word_bonus; with missing_boundary set, a word may also start right after the previous one's
// last label, adding that log-probability. Prefix beam search: hypotheses with the same words and the same place in
// the current word's pronunciation share their probability (ending in blank / in a label), summed over alignments.
#ifndef ONEMODEL_MODEL_CTC_LEXICON_DECODER_H_
#define ONEMODEL_MODEL_CTC_LEXICON_DECODER_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <vector>

namespace onemodel::model {

// log P(word | previous): previous -1 at the start of a transcript, word -1 for its end.
using WordLogProb = std::function<float(int previous, int word)>;

struct LexiconDecodeOptions {
  // Hypotheses kept after each frame. The default main job's speech, held-out WER over three seeds: 128, 0.144 on
  // average; 512, 0.132; seed 3 at 1,024 and 2,048 barely better than at 512 (0.153, 0.154 against 0.156; README,
  // "The search's width").
  int beam = 512;
  float lm_weight = 1.f;
  float word_bonus = 0.f;
  float label_floor = -12;  // labels less likely than this at a frame are not tried there (log-probability)
  // Log-probability added where a word starts right after the previous one's last label, with no boundary between
  // them (-inf: every word ends at a boundary).
  float missing_boundary = -std::numeric_limits<float>::infinity();
};

class CtcLexiconDecoder {
 public:
  // `pronunciations`: (word id >= 0, its labels) pairs; a word may have several, words may share one (homophones:
  // the language model tells them apart). Labels are CTC outputs other than `blank` and `boundary`.
  CtcLexiconDecoder(const std::vector<std::pair<int, std::vector<int>>>& pronunciations, int blank, int boundary,
                    WordLogProb lm, LexiconDecodeOptions options);

  // The likeliest word sequence for `log_probs`, row-major [frames][classes] log-softmax of one example.
  std::vector<int> Decode(const std::vector<float>& log_probs, int64_t frames, int64_t classes) const;

 private:
  struct Node {
    std::map<int, int> children;  // label -> node
    std::vector<int> words;       // words whose pronunciation ends here
    int label = -1;               // the label into this node (-1: the root)
  };

  std::vector<Node> nodes_;  // nodes_[0]: the root, the start of a word
  int blank_, boundary_;
  WordLogProb lm_;
  LexiconDecodeOptions options_;
};

}  // namespace onemodel::model

#endif  // ONEMODEL_MODEL_CTC_LEXICON_DECODER_H_
