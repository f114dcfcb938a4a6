#include "tasks/synthetic/cluster_data.h"

#include <cmath>

#include "gtest/gtest.h"

namespace onemodel::synthetic {
namespace {

config::ClusterDataConfig Small() {
  config::ClusterDataConfig c;
  c.set_train_size(400);
  c.set_test_size(100);
  return c;
}

double Dot(const float* a, const float* b, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

TEST(ClusterDataTest, BasisIsOrthonormal) {
  auto data = MakeClusterDataset(Small(), 1);
  ASSERT_TRUE(data.ok()) << data.status();
  std::vector<const float*> vectors;
  for (int k = 0; k < 4; ++k) vectors.push_back(data->features.data<float>() + k * 50);
  for (int k = 0; k < 4; ++k) vectors.push_back(data->centers.data<float>() + k * 50);
  for (size_t i = 0; i < vectors.size(); ++i) {
    for (size_t j = 0; j < vectors.size(); ++j) EXPECT_NEAR(Dot(vectors[i], vectors[j], 50), i == j, 1e-5);
  }
}

TEST(ClusterDataTest, EachSampleHasSignalCenterFeatureNoiseAndGaussianPatches) {
  auto data = MakeClusterDataset(Small(), 2);
  ASSERT_TRUE(data.ok());
  const ClusterData& d = data->train;
  int positives = 0;
  for (int i = 0; i < 400; ++i) {
    const int k = static_cast<int>(d.cluster.data<int64_t>()[i]);
    const int y = d.label.data<int64_t>()[i] ? 1 : -1;
    positives += y > 0;
    bool signal = false, center = false, other_feature = false;
    for (int p = 0; p < 4; ++p) {
      const float* patch = d.x.data<float>() + (i * 4 + p) * 50;
      const double on_feature = Dot(patch, data->features.data<float>() + k * 50, 50);
      const double on_center = Dot(patch, data->centers.data<float>() + k * 50, 50);
      // Signal a * y * v_k with a in [0.5, 2], times 10.
      if (on_feature * y >= 5 - 1e-3 && on_feature * y <= 20 + 1e-3) signal = true;
      if (on_center >= 10 - 1e-3 && on_center <= 20 + 1e-3) center = true;
      for (int other = 0; other < 4; ++other) {
        if (other == k) continue;
        const double on_other = std::abs(Dot(patch, data->features.data<float>() + other * 50, 50));
        if (on_other >= 5 - 1e-3 && on_other <= 30 + 1e-3) other_feature = true;
      }
    }
    ASSERT_TRUE(signal && center && other_feature) << "sample " << i;
  }
  EXPECT_NEAR(positives / 400.0, 0.5, 0.1);
}

TEST(ClusterDataTest, SameSeedSameDataOtherSeedOtherData) {
  auto a = MakeClusterDataset(Small(), 3), b = MakeClusterDataset(Small(), 3), c = MakeClusterDataset(Small(), 4);
  EXPECT_EQ(a->train.x.ToVector(), b->train.x.ToVector());
  EXPECT_NE(a->train.x.ToVector(), c->train.x.ToVector());
}

TEST(ClusterDataTest, BadConfigNamesTheField) {
  config::ClusterDataConfig c = Small();
  c.set_dim(6);
  auto data = MakeClusterDataset(c, 1);
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.status().message().find("chen2022.data.dim"), std::string::npos) << data.status();
  c = Small();
  c.set_gamma_min(4);
  EXPECT_NE(MakeClusterDataset(c, 1).status().message().find("chen2022.data.gamma_min"), std::string::npos);
}

}  // namespace
}  // namespace onemodel::synthetic
