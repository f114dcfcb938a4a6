#include "core/module.h"

#include "gtest/gtest.h"

namespace onemodel {
namespace {

class Linear : public Module {
 public:
  Linear() {
    weight = RegisterParameter("weight", Tensor::Zeros({2, 3}));
    bias = RegisterParameter("bias", Tensor::Zeros({3}));
  }
  Tensor weight, bias;
};

class Block : public Module {
 public:
  Block() {
    RegisterModule("ffn_in", &in);
    RegisterModule("ffn_out", &out);
    scale = RegisterParameter("scale", Tensor::Zeros({1}));
  }
  Linear in, out;
  Tensor scale;
};

TEST(ModuleTest, HierarchicalNamesInRegistrationOrder) {
  Block block;
  std::vector<std::string> names;
  for (const auto& [name, t] : block.NamedParameters()) {
    names.push_back(name);
    EXPECT_TRUE(t.requires_grad());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"scale", "ffn_in.weight", "ffn_in.bias", "ffn_out.weight",
                                             "ffn_out.bias"}));
  EXPECT_EQ(block.NumParameters(), 1 + 2 * (6 + 3));
}

TEST(ModuleTest, ZeroGradClearsEveryParameter) {
  Block block;
  block.in.weight.AccumulateGrad(Tensor::Full({2, 3}, 1.f));
  block.ZeroGrad();
  EXPECT_FALSE(block.in.weight.grad().defined());
}

}  // namespace
}  // namespace onemodel
