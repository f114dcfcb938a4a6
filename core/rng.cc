#include "core/rng.h"

#include <cmath>

namespace onemodel {
namespace {
constexpr uint32_t kMul0 = 0xD2511F53, kMul1 = 0xCD9E8D57;
constexpr uint32_t kWeyl0 = 0x9E3779B9, kWeyl1 = 0xBB67AE85;

float ToUnit(uint32_t bits) { return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f); }
}  // namespace

PhiloxCounter Philox4x32(PhiloxCounter c, PhiloxKey k) {
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(kMul0) * c[0];
    const uint64_t p1 = static_cast<uint64_t>(kMul1) * c[2];
    c = {static_cast<uint32_t>(p1 >> 32) ^ c[1] ^ k[0], static_cast<uint32_t>(p1),
         static_cast<uint32_t>(p0 >> 32) ^ c[3] ^ k[1], static_cast<uint32_t>(p0)};
    k[0] += kWeyl0;
    k[1] += kWeyl1;
  }
  return c;
}

PhiloxCounter RandomBlock(const RngKey& key, uint64_t block) {
  return Philox4x32({static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), key.step,
                     static_cast<uint32_t>(key.layer) | (static_cast<uint32_t>(key.purpose) << 16)},
                    {static_cast<uint32_t>(key.seed), static_cast<uint32_t>(key.seed >> 32)});
}

float UniformAt(const RngKey& key, uint64_t index) { return ToUnit(RandomBlock(key, index / 4)[index % 4]); }

float NormalAt(const RngKey& key, uint64_t index) {
  // Two uniforms from one block half: lanes (0, 1) for even indices, (2, 3) for odd ones.
  const PhiloxCounter r = RandomBlock(key, index / 2);
  const int lane = static_cast<int>(index % 2) * 2;
  const float u1 = (static_cast<float>(r[lane] >> 8) + 1.0f) * (1.0f / 16777216.0f);  // (0, 1]: log is finite
  const float u2 = ToUnit(r[lane + 1]);
  return std::sqrt(-2.0f * std::log(u1)) * std::cos(6.28318530717958647f * u2);
}

Tensor RandomUniform(const Shape& shape, const RngKey& key, float low, float high, uint64_t offset) {
  Tensor out = Tensor::Empty(shape);
  float* p = out.data<float>();
  const int64_t n = out.numel();
#pragma omp parallel for if (n > (1 << 14))
  for (int64_t i = 0; i < n; ++i) p[i] = low + (high - low) * UniformAt(key, offset + i);
  return out;
}

Tensor RandomNormal(const Shape& shape, const RngKey& key, float mean, float stddev, uint64_t offset) {
  Tensor out = Tensor::Empty(shape);
  float* p = out.data<float>();
  const int64_t n = out.numel();
#pragma omp parallel for if (n > (1 << 14))
  for (int64_t i = 0; i < n; ++i) p[i] = mean + stddev * NormalAt(key, offset + i);
  return out;
}

}  // namespace onemodel
