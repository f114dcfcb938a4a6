// Image-captioning data from labeled images (DESIGN §5): 2x2 composites of Fashion-MNIST items with a generated
// caption naming the four items in reading order: "a shirt , a bag , an ankle boot and a dress".
#ifndef ONEMODEL_DATA_COMPOSITES_H_
#define ONEMODEL_DATA_COMPOSITES_H_

#include <array>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/idx.h"

namespace onemodel::data {

// Fashion-MNIST's ten classes, in label order, as a caption names them.
const std::array<std::string, 10>& FashionMnistNames();

// "a shirt , a bag , an ankle boot and a dress" for labels (top left, top right, bottom left, bottom right).
std::string CompositeCaption(const std::array<int64_t, 4>& labels);

struct Composites {
  Tensor images;                                 // [N, 2 rows, 2 cols] f32: [N, 56, 56] for 28x28 items
  std::vector<std::array<int64_t, 4>> labels;   // the items' classes, reading order
  std::vector<std::string> captions;
};

// Composites of the given items: composite i is items[4i .. 4i+3] of `split`, in reading order.
Composites MakeComposites(const LabeledImages& split, const std::vector<int64_t>& items);

}  // namespace onemodel::data

#endif  // ONEMODEL_DATA_COMPOSITES_H_
