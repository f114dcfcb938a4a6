#include "data/composites.h"

#include <stdexcept>

#include "gtest/gtest.h"

namespace onemodel::data {
namespace {

TEST(CompositesTest, ItemPhraseIsTheNameWithItsArticle) {
  EXPECT_EQ(ItemPhrase(9), "an ankle boot");
  EXPECT_EQ(ItemPhrase(0), "a t-shirt");
  EXPECT_THROW(ItemPhrase(10), std::out_of_range);
}

TEST(CompositesTest, CaptionNamesTheItemsInReadingOrderWithArticles) {
  EXPECT_EQ(CompositeCaption({6, 8, 9, 3}), "a shirt , a bag , an ankle boot and a dress");
  EXPECT_EQ(CompositeCaption({0, 0, 1, 7}), "a t-shirt , a t-shirt , a trouser and a sneaker");
}

TEST(CompositesTest, CaptionItemsSplitsACaptionIntoItsItems) {
  using Items = std::vector<std::string>;
  EXPECT_EQ(CaptionItems(CompositeCaption({6, 8, 9, 3})), (Items{"a shirt", "a bag", "an ankle boot", "a dress"}));
  EXPECT_EQ(CaptionItems("a coat , a bag and a dress"), (Items{"a coat", "a bag", "a dress"}));  // one short
  EXPECT_EQ(CaptionItems("a coat"), (Items{"a coat"}));
}

TEST(CompositesTest, CellsHoldTheItemsAlignedToPatchTokens) {
  // Four 2x3 "images" with distinct pixel values and labels 0..3, plus a fifth; cells are 8 x 8.
  LabeledImages split;
  std::vector<float> pixels(5 * 6);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<float>(i + 1);
  split.images = Tensor::FromVector(pixels, {5, 2, 3});
  split.labels = Tensor::FromIndices({0, 1, 2, 3, 4}, {5});
  const Composites c = MakeComposites(split, {4, 1, 2, 0});
  ASSERT_EQ(c.images.shape(), (Shape{1, 16, 16}));
  const std::vector<float> v = c.images.ToVector();
  auto at = [&](int64_t y, int64_t x) { return v[y * 16 + x]; };
  EXPECT_EQ(at(0, 0), 25.f);   // item 4, pixel (0, 0), top left
  EXPECT_EQ(at(1, 2), 30.f);   // item 4, pixel (1, 2)
  EXPECT_EQ(at(0, 8), 7.f);    // item 1, top right
  EXPECT_EQ(at(8, 0), 13.f);   // item 2, bottom left
  EXPECT_EQ(at(9, 10), 6.f);   // item 0, pixel (1, 2), bottom right
  EXPECT_EQ(at(0, 3), 0.f);    // padding right of an item
  EXPECT_EQ(at(2, 0), 0.f);    // padding below an item
  EXPECT_EQ(at(15, 15), 0.f);
  EXPECT_EQ(c.labels[0], (std::array<int64_t, 4>{4, 1, 2, 0}));
  EXPECT_EQ(c.captions[0], "a coat , a trouser , a pullover and a t-shirt");
}

}  // namespace
}  // namespace onemodel::data
