#include "core/tensor.h"

#include "gtest/gtest.h"

namespace onemodel {
namespace {

TEST(TensorTest, ViewsShareStorage) {
  Tensor t = Tensor::FromVector({0, 1, 2, 3, 4, 5}, {3, 2});
  Tensor v = t.View({2, -1});
  EXPECT_EQ(v.shape(), (Shape{2, 3}));
  Tensor rows = t.Narrow(1, 3);
  EXPECT_EQ(rows.shape(), (Shape{2, 2}));
  EXPECT_EQ(rows.ToVector(), (std::vector<float>{2, 3, 4, 5}));
  rows.data<float>()[0] = 9;
  EXPECT_EQ(t.ToVector()[2], 9);
  EXPECT_EQ(t.Clone().raw_data() == t.raw_data(), false);
}

TEST(TensorTest, DtypesAndFill) {
  Tensor i = Tensor::Zeros({2}, DType::kI32);
  i.Fill(7);
  EXPECT_EQ(i.ToIndices(), (std::vector<int64_t>{7, 7}));
  EXPECT_EQ(Tensor::FromIndices({1, 2}, {2}).dtype(), DType::kI64);
  EXPECT_EQ(DTypeSize(DType::kBF16), 2u);
  Tensor b = Tensor::Zeros({3}, DType::kBF16);
  b.Fill(1.5f);
  EXPECT_EQ(b.ToVector(), (std::vector<float>{1.5f, 1.5f, 1.5f}));
}

TEST(TensorTest, BF16RoundsToNearestEven) {
  EXPECT_EQ(FloatToBF16(1.0f), 0x3f80);
  // 1 + 2^-8 is exactly between two bf16 values: ties go to the even mantissa (1.0).
  EXPECT_EQ(FloatToBF16(1.00390625f), 0x3f80);
  EXPECT_EQ(FloatToBF16(1.01171875f), 0x3f82);  // 1 + 3 * 2^-8 -> rounds up to even
  EXPECT_EQ(BF16ToFloat(0x4049), 3.140625f);
}

TEST(TensorDeathTest, ErrorsNameShapesAndDtypes) {
  Tensor t = Tensor::Zeros({2, 3});
  EXPECT_DEATH(t.View({4, 2}), "reshape \\[2, 3\\] -> \\[4, 2\\]: sizes differ");
  EXPECT_DEATH(t.Narrow(1, 3), "rows \\[1, 3\\) out of range for shape \\[2, 3\\]");
  EXPECT_DEATH(t.data<int64_t>(), "tensor is f32, asked as i64");
  EXPECT_DEATH(Tensor::Zeros({2}, DType::kF32, Device::CUDA()).numel(), "built without CUDA|CUDA");
}

}  // namespace
}  // namespace onemodel
