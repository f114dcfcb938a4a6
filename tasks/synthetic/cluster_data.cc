#include "tasks/synthetic/cluster_data.h"

#include <cmath>
#include <numeric>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/rng.h"

namespace onemodel::synthetic {
namespace {

// RNG purposes: the basis, then per sample (signs, amplitudes, order, noise) keyed by sample index.
constexpr uint16_t kBasis = 1, kTrain = 2, kTest = 3;

absl::Status Bad(const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("config field chen2022.data.", field, ": ", why));
}

// 2K orthonormal vectors in R^d: Gram-Schmidt on Gaussian vectors (in double).
std::vector<std::vector<double>> OrthonormalBasis(int count, int dim, uint64_t seed) {
  std::vector<std::vector<double>> basis;
  for (int i = 0; i < count; ++i) {
    std::vector<double> v(dim);
    for (int j = 0; j < dim; ++j) v[j] = NormalAt(RngKey{seed, 0, static_cast<uint16_t>(i), kBasis}, j);
    for (const auto& b : basis) {
      const double dot = std::inner_product(v.begin(), v.end(), b.begin(), 0.0);
      for (int j = 0; j < dim; ++j) v[j] -= dot * b[j];
    }
    const double norm = std::sqrt(std::inner_product(v.begin(), v.end(), v.begin(), 0.0));
    for (double& x : v) x /= norm;
    basis.push_back(v);
  }
  return basis;
}

ClusterData Generate(const config::ClusterDataConfig& c, const std::vector<std::vector<double>>& basis, int n,
                     uint64_t seed, uint16_t split) {
  const int d = c.dim(), p = c.patches(), k = c.clusters();
  const float sigma = c.sigma() > 0 ? c.sigma() : 1.f / std::sqrt(static_cast<float>(d));
  ClusterData data{Tensor::Zeros({n, p, d}), Tensor::Empty({n}, DType::kI64), Tensor::Empty({n}, DType::kI64)};
  float* x = data.x.data<float>();
  for (int i = 0; i < n; ++i) {
    // Each sample has its own stream: uniforms at positions 0..7 + patches, noise normals from 64 on.
    const RngKey key{seed, static_cast<uint32_t>(i), 0, split};
    auto u = [&](int j) { return UniformAt(key, j); };
    const int y = u(0) < 0.5f ? -1 : 1;
    const int cluster = std::min(k - 1, static_cast<int>(u(1) * k));
    const int other = (cluster + 1 + std::min(k - 2, static_cast<int>(u(2) * (k - 1)))) % k;  // k' != k
    const int sign = u(3) < 0.5f ? -1 : 1;
    const float alpha = c.alpha_min() + (c.alpha_max() - c.alpha_min()) * u(4);
    const float beta = c.beta_min() + (c.beta_max() - c.beta_min()) * u(5);
    const float gamma = c.gamma_min() + (c.gamma_max() - c.gamma_min()) * u(6);
    // A random order of the patches: Fisher-Yates keyed by the sample.
    std::vector<int> slot(p);
    std::iota(slot.begin(), slot.end(), 0);
    for (int j = p - 1; j > 0; --j) std::swap(slot[j], slot[std::min(j, static_cast<int>(u(7 + j) * (j + 1)))]);
    float* sample = x + static_cast<int64_t>(i) * p * d;
    const auto& v_k = basis[cluster];
    const auto& c_k = basis[k + cluster];
    const auto& v_other = basis[other];
    for (int j = 0; j < d; ++j) {
      sample[slot[0] * d + j] = c.scale() * alpha * y * static_cast<float>(v_k[j]);
      sample[slot[1] * d + j] = c.scale() * beta * static_cast<float>(c_k[j]);
      sample[slot[2] * d + j] = c.scale() * gamma * sign * static_cast<float>(v_other[j]);
    }
    for (int q = 3; q < p; ++q) {  // the remaining patches are Gaussian noise
      for (int j = 0; j < d; ++j) sample[slot[q] * d + j] = c.scale() * sigma * NormalAt(key, 64 + q * d + j);
    }
    data.label.data<int64_t>()[i] = y > 0;
    data.cluster.data<int64_t>()[i] = cluster;
  }
  return data;
}

}  // namespace

absl::StatusOr<ClusterDataset> MakeClusterDataset(const config::ClusterDataConfig& c, uint64_t seed) {
  if (c.clusters() < 2) return Bad("clusters", absl::StrCat(c.clusters(), " must be >= 2"));
  if (c.dim() < 2 * c.clusters()) {
    return Bad("dim", absl::StrCat(c.dim(), " must be >= 2 * clusters = ", 2 * c.clusters(), " (orthonormal basis)"));
  }
  if (c.patches() < 3) return Bad("patches", absl::StrCat(c.patches(), " must be >= 3 (signal, center, noise)"));
  if (c.train_size() < 1 || c.test_size() < 1) return Bad("train_size", "train_size and test_size must be >= 1");
  for (const auto& [name, lo, hi] : {std::make_tuple("alpha", c.alpha_min(), c.alpha_max()),
                                     std::make_tuple("beta", c.beta_min(), c.beta_max()),
                                     std::make_tuple("gamma", c.gamma_min(), c.gamma_max())}) {
    if (!(lo <= hi)) return Bad(absl::StrCat(name, "_min"), absl::StrCat(lo, " exceeds ", name, "_max ", hi));
  }
  if (c.sigma() < 0) return Bad("sigma", "must be >= 0 (0: 1 / sqrt(dim))");
  if (!(c.scale() > 0)) return Bad("scale", "must be > 0");
  const auto basis = OrthonormalBasis(2 * c.clusters(), c.dim(), seed);
  ClusterDataset out;
  std::vector<float> f, ctr;
  for (int i = 0; i < c.clusters(); ++i) {
    f.insert(f.end(), basis[i].begin(), basis[i].end());
    ctr.insert(ctr.end(), basis[c.clusters() + i].begin(), basis[c.clusters() + i].end());
  }
  out.features = Tensor::FromVector(f, {c.clusters(), c.dim()});
  out.centers = Tensor::FromVector(ctr, {c.clusters(), c.dim()});
  out.train = Generate(c, basis, c.train_size(), seed, kTrain);
  out.test = Generate(c, basis, c.test_size(), seed, kTest);
  return out;
}

}  // namespace onemodel::synthetic
