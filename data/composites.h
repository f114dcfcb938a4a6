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

// "a shirt", "an ankle boot": the class's name with its article, as captions name an item.
std::string ItemPhrase(int64_t label);

// "a shirt , a bag , an ankle boot and a dress" for labels (top left, top right, bottom left, bottom right).
std::string CompositeCaption(const std::array<int64_t, 4>& labels);

// A caption's item phrases in order ("a shirt", "a bag", ...): CompositeCaption's inverse, for any text (a decoded
// caption may name more or fewer items).
std::vector<std::string> CaptionItems(const std::string& caption);

struct Composites {
  Tensor images;                                 // [N, 2 cells, 2 cells] f32: [N, 64, 64] for 28x28 items
  std::vector<std::array<int64_t, 4>> labels;   // the items' classes, reading order
  std::vector<std::string> captions;
};

// Composites of the given items: composite i is items[4i .. 4i+3] of `split`, in reading order. Each item sits at
// the top left of a cell of its size rounded up to a multiple of 8 (32 x 32 for 28 x 28 items), zero-padded: the
// image modality's 8 x 8-pixel patch tokens then cover an item as they cover it alone (a 28 x 28 image is 4 x 4
// tokens, its last row and column padded), so what classification learns about items carries over to captions,
// and no token mixes two items.
Composites MakeComposites(const LabeledImages& split, const std::vector<int64_t>& items);

}  // namespace onemodel::data

#endif  // ONEMODEL_DATA_COMPOSITES_H_
