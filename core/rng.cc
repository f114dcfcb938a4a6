#include "core/rng.h"

#include <cmath>

#include "core/cuda_backend.h"
#include "core/philox.h"

namespace onemodel {

PhiloxCounter Philox4x32(PhiloxCounter c, PhiloxKey k) {
  const PhiloxBlock out = PhiloxRounds(PhiloxBlock{{c[0], c[1], c[2], c[3]}}, k[0], k[1]);
  return {out.v[0], out.v[1], out.v[2], out.v[3]};
}

PhiloxCounter RandomBlock(const RngKey& key, uint64_t block) {
  const PhiloxBlock out = StreamBlock(key.seed, key.step, key.layer, key.purpose, block);
  return {out.v[0], out.v[1], out.v[2], out.v[3]};
}

float UniformAt(const RngKey& key, uint64_t index) {
  return StreamUniform(key.seed, key.step, key.layer, key.purpose, index);
}

float NormalAt(const RngKey& key, uint64_t index) {
  return StreamNormal(key.seed, key.step, key.layer, key.purpose, index);
}

Tensor RandomUniform(const Shape& shape, const RngKey& key, float low, float high, uint64_t offset, Device device) {
  Tensor out = Tensor::Empty(shape, DType::kF32, device);
  const int64_t n = out.numel();
  if (!device.is_cpu()) {
    RequireCudaBackend().Random(static_cast<float*>(out.raw_data()), n, key.seed, key.step, key.layer, key.purpose,
                                offset, /*normal=*/false, low, high - low);
    return out;
  }
  float* p = out.data<float>();
#pragma omp parallel for if (n > (1 << 14))
  for (int64_t i = 0; i < n; ++i) p[i] = low + (high - low) * UniformAt(key, offset + i);
  return out;
}

Tensor RandomNormal(const Shape& shape, const RngKey& key, float mean, float stddev, uint64_t offset, Device device) {
  Tensor out = Tensor::Empty(shape, DType::kF32, device);
  const int64_t n = out.numel();
  if (!device.is_cpu()) {
    RequireCudaBackend().Random(static_cast<float*>(out.raw_data()), n, key.seed, key.step, key.layer, key.purpose,
                                offset, /*normal=*/true, mean, stddev);
    return out;
  }
  float* p = out.data<float>();
#pragma omp parallel for if (n > (1 << 14))
  for (int64_t i = 0; i < n; ++i) p[i] = mean + stddev * NormalAt(key, offset + i);
  return out;
}

}  // namespace onemodel
