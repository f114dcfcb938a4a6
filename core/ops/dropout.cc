#include "core/ops/dropout.h"

#include "core/cuda_backend.h"
#include "core/ops/elementwise.h"

namespace onemodel::ops {

Tensor Dropout(const Tensor& x, float p, const RngKey& key, bool training, uint64_t offset) {
  CHECK(p >= 0.f && p < 1.f) << "Dropout: p = " << p << " outside [0, 1)";
  if (!training || p == 0.f) return x;
  Tensor mask = Tensor::Empty(x.shape(), DType::kF32, x.device());
  float* pm = static_cast<float*>(mask.raw_data());
  const float keep_scale = 1.f / (1.f - p);
  const int64_t n = x.numel();
  if (!x.device().is_cpu()) {
    RequireCudaBackend().DropoutMask(pm, n, key.seed, key.step, key.layer, key.purpose, offset, p, keep_scale);
    return Mul(x, mask);
  }
#pragma omp parallel for if (n > (1 << 14))
  for (int64_t i = 0; i < n; ++i) pm[i] = UniformAt(key, offset + i) >= p ? keep_scale : 0.f;
  return Mul(x, mask);  // the gradient is the same mask
}

}  // namespace onemodel::ops
