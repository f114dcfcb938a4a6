// Readers for the IDX format of (Fashion-)MNIST, gzipped as Debian's dataset-fashion-mnist ships it.
// Every malformed input (bad magic, wrong rank, truncated data, counts that disagree) is an error that
// names the file.
#ifndef ONEMODEL_DATA_IDX_H_
#define ONEMODEL_DATA_IDX_H_

#include <string>

#include "absl/status/statusor.h"
#include "core/tensor.h"

namespace onemodel::data {

// Images [N, rows, cols] as f32 in [0, 1] (byte / 255).
absl::StatusOr<Tensor> ReadIdxImages(const std::string& path);
// Labels [N] as i64.
absl::StatusOr<Tensor> ReadIdxLabels(const std::string& path);

struct LabeledImages {
  Tensor images;  // [N, rows, cols] f32
  Tensor labels;  // [N] i64
};
// `<dir>/<split>-images-idx3-ubyte.gz` and `<dir>/<split>-labels-idx1-ubyte.gz`; split is "train" or "t10k".
absl::StatusOr<LabeledImages> ReadFashionMnist(const std::string& dir, const std::string& split);

}  // namespace onemodel::data

#endif  // ONEMODEL_DATA_IDX_H_
