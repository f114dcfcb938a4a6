// The only translation unit that includes SentencePiece's headers: they define `absl::string_view` themselves
// (sentencepiece_processor.h), which clashes with the system Abseil, so nothing here may include Abseil.
// Errors come back as strings; data/subwords.h turns them into absl::Status.
#ifndef ONEMODEL_DATA_SENTENCEPIECE_SHIM_H_
#define ONEMODEL_DATA_SENTENCEPIECE_SHIM_H_

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace onemodel::data::spm {

// Trains a model with SentencePiece's flags (`input`, `model_prefix`, `vocab_size`, ...); "" on success.
std::string Train(const std::unordered_map<std::string, std::string>& flags);

class Processor {
 public:
  Processor();
  ~Processor();
  std::string Load(const std::string& path);  // "" on success
  int VocabSize() const;
  std::vector<int> Encode(const std::string& text) const;
  std::string Decode(const std::vector<int>& ids) const;
  std::string Piece(int id) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace onemodel::data::spm

#endif  // ONEMODEL_DATA_SENTENCEPIECE_SHIM_H_
