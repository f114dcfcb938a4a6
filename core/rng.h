// Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3"), a counter-based RNG.
// A random value is a pure function of (seed, step, layer, purpose, element index), so routing noise and
// dropout masks are the same on CPU and GPU and for any number of ranks (DESIGN §3).
#ifndef ONEMODEL_CORE_RNG_H_
#define ONEMODEL_CORE_RNG_H_

#include <array>
#include <cstdint>

#include "core/tensor.h"

namespace onemodel {

using PhiloxCounter = std::array<uint32_t, 4>;
using PhiloxKey = std::array<uint32_t, 2>;

// Ten rounds of Philox4x32 on one counter block.
PhiloxCounter Philox4x32(PhiloxCounter counter, PhiloxKey key);

// Names a stream of random values. `purpose` separates uses within one layer (noise, dropout, init...).
struct RngKey {
  uint64_t seed = 0;
  uint32_t step = 0;
  uint16_t layer = 0;
  uint16_t purpose = 0;
};

// The 4 uint32 of block `block` of the stream (counter = block index, step, layer | purpose << 16).
PhiloxCounter RandomBlock(const RngKey& key, uint64_t block);
// Uniform in [0, 1) with 24 random bits, for element `index` of the stream.
float UniformAt(const RngKey& key, uint64_t index);
// Standard normal (Box-Muller) for element `index` of the stream.
float NormalAt(const RngKey& key, uint64_t index);

// Tensors of the given shape on `device`; element i takes stream index `offset + i` (a global token offset
// keeps a shard's values equal to the unsharded ones). The CUDA kernels draw the same numbers (philox.h).
Tensor RandomUniform(const Shape& shape, const RngKey& key, float low = 0.f, float high = 1.f, uint64_t offset = 0,
                     Device device = Device::CPU());
Tensor RandomNormal(const Shape& shape, const RngKey& key, float mean = 0.f, float stddev = 1.f, uint64_t offset = 0,
                    Device device = Device::CPU());

}  // namespace onemodel

#endif  // ONEMODEL_CORE_RNG_H_
