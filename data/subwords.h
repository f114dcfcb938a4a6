// Subword vocabularies trained with SentencePiece (unigram LM, Kudo 2018) from Debian's libsentencepiece.
// Ids: 0 padding, 1 unknown, 2 end of sentence; pieces from 3 on. Decoding starts from a task token held by
// the model, so there is no begin-of-sentence id.
#ifndef ONEMODEL_DATA_SUBWORDS_H_
#define ONEMODEL_DATA_SUBWORDS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/sentencepiece_shim.h"

namespace onemodel::data {

inline constexpr int kPadId = 0, kUnkId = 1, kEosId = 2;

// Trains `<model_prefix>.model` (and `.vocab`) on the lines of `text_file`; deterministic for the same input.
absl::Status TrainSubwords(const std::string& text_file, const std::string& model_prefix, int vocab_size,
                           int threads = 2);

class SubwordVocab {
 public:
  static absl::StatusOr<std::shared_ptr<const SubwordVocab>> Load(const std::string& model_path);
  int size() const { return processor_.VocabSize(); }
  std::vector<int> Encode(const std::string& text) const { return processor_.Encode(text); }
  // Stops at the first end-of-sentence id; padding is skipped.
  std::string Decode(const std::vector<int>& ids) const;
  std::string Piece(int id) const { return processor_.Piece(id); }
  const std::string& path() const { return path_; }

 private:
  SubwordVocab() = default;
  spm::Processor processor_;
  std::string path_;
};

}  // namespace onemodel::data

#endif  // ONEMODEL_DATA_SUBWORDS_H_
