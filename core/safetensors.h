// safetensors (https://github.com/huggingface/safetensors) read and write: an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {..}}, then the raw data.
// Readers validate the whole header up front, so a bad file fails at Open with the file and tensor named,
// never with a crash or a partial load. Writers go through a temporary file, fsync and rename.
#ifndef ONEMODEL_CORE_SAFETENSORS_H_
#define ONEMODEL_CORE_SAFETENSORS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/module.h"
#include "core/tensor.h"

namespace onemodel {

absl::Status WriteSafetensors(const std::string& path, const NamedTensors& tensors,
                              const std::map<std::string, std::string>& metadata = {});

class SafetensorsReader {
 public:
  static absl::StatusOr<SafetensorsReader> Open(const std::string& path);

  std::vector<std::string> Names() const;
  bool Contains(const std::string& name) const { return entries_.count(name) > 0; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // The tensor as stored (on the CPU).
  absl::StatusOr<Tensor> Read(const std::string& name) const;
  // The tensor, checked against the dtype and shape the caller expects.
  absl::StatusOr<Tensor> Read(const std::string& name, DType dtype, const Shape& shape) const;

 private:
  struct Entry {
    DType dtype;
    Shape shape;
    size_t begin, end;  // within the data section
  };
  std::string path_;
  std::string data_;  // the data section
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace onemodel

#endif  // ONEMODEL_CORE_SAFETENSORS_H_
