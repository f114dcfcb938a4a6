#include "data/composites.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "glog/logging.h"

namespace onemodel::data {

const std::array<std::string, 10>& FashionMnistNames() {
  static const std::array<std::string, 10> names = {"t-shirt", "trouser", "pullover", "dress",   "coat",
                                                    "sandal",  "shirt",   "sneaker",  "bag",     "ankle boot"};
  return names;
}

std::string ItemPhrase(int64_t label) {
  const std::string& name = FashionMnistNames().at(label);
  const bool vowel = name[0] == 'a' || name[0] == 'e' || name[0] == 'i' || name[0] == 'o' || name[0] == 'u';
  return absl::StrCat(vowel ? "an " : "a ", name);
}

std::string CompositeCaption(const std::array<int64_t, 4>& labels) {
  std::string caption;
  for (int i = 0; i < 4; ++i) absl::StrAppend(&caption, i == 0 ? "" : i == 3 ? " and " : " , ", ItemPhrase(labels[i]));
  return caption;
}

std::vector<std::string> CaptionItems(const std::string& caption) {
  return absl::StrSplit(absl::StrReplaceAll(caption, {{" and ", " , "}}), " , ");
}

Composites MakeComposites(const LabeledImages& split, const std::vector<int64_t>& items) {
  CHECK_EQ(items.size() % 4, 0u) << "MakeComposites: four items per composite";
  const int64_t n = static_cast<int64_t>(items.size() / 4), h = split.images.dim(1), w = split.images.dim(2);
  const int64_t cell_h = (h + 7) / 8 * 8, cell_w = (w + 7) / 8 * 8;
  Composites c;
  c.images = Tensor::Zeros({n, 2 * cell_h, 2 * cell_w});
  const float* source = split.images.data<float>();
  const int64_t* labels = split.labels.data<int64_t>();
  float* out = c.images.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    std::array<int64_t, 4> item_labels;
    for (int q = 0; q < 4; ++q) {
      const int64_t item = items[4 * i + q];
      item_labels[q] = labels[item];
      const int64_t top = (q / 2) * cell_h, left = (q % 2) * cell_w;
      for (int64_t y = 0; y < h; ++y) {
        std::memcpy(out + (i * 2 * cell_h + top + y) * 2 * cell_w + left, source + (item * h + y) * w,
                    w * sizeof(float));
      }
    }
    c.labels.push_back(item_labels);
    c.captions.push_back(CompositeCaption(item_labels));
  }
  return c;
}

}  // namespace onemodel::data
