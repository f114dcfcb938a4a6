// Philox 4x32-10 and the uniform / normal transforms, shared by the CPU (rng.cc) and the CUDA kernels so
// both draw the same numbers: uniforms bit for bit, normals up to the last bits of logf / cosf.
#ifndef ONEMODEL_CORE_PHILOX_H_
#define ONEMODEL_CORE_PHILOX_H_

#include <cmath>
#include <cstdint>

#include "core/ops/unary_math.h"  // OM_HD

namespace onemodel {

struct PhiloxBlock {
  uint32_t v[4];
};

OM_HD PhiloxBlock PhiloxRounds(PhiloxBlock c, uint32_t k0, uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c.v[0];
    const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c.v[2];
    c = PhiloxBlock{{static_cast<uint32_t>(p1 >> 32) ^ c.v[1] ^ k0, static_cast<uint32_t>(p1),
                     static_cast<uint32_t>(p0 >> 32) ^ c.v[3] ^ k1, static_cast<uint32_t>(p0)}};
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return c;
}

// Block `block` of the stream keyed by (seed, step, layer, purpose): counter = (block, step, layer | purpose << 16).
OM_HD PhiloxBlock StreamBlock(uint64_t seed, uint32_t step, uint16_t layer, uint16_t purpose, uint64_t block) {
  return PhiloxRounds(PhiloxBlock{{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), step,
                                   static_cast<uint32_t>(layer) | (static_cast<uint32_t>(purpose) << 16)}},
                      static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// [0, 1) from the top 24 bits.
OM_HD float BitsToUnit(uint32_t bits) { return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f); }

OM_HD float StreamUniform(uint64_t seed, uint32_t step, uint16_t layer, uint16_t purpose, uint64_t index) {
  return BitsToUnit(StreamBlock(seed, step, layer, purpose, index / 4).v[index % 4]);
}

// Box-Muller on two uniforms of one block half: lanes (0, 1) for even indices, (2, 3) for odd ones.
OM_HD float StreamNormal(uint64_t seed, uint32_t step, uint16_t layer, uint16_t purpose, uint64_t index) {
  const PhiloxBlock r = StreamBlock(seed, step, layer, purpose, index / 2);
  const int lane = static_cast<int>(index % 2) * 2;
  const float u1 = (static_cast<float>(r.v[lane] >> 8) + 1.0f) * (1.0f / 16777216.0f);  // (0, 1]: log is finite
  const float u2 = BitsToUnit(r.v[lane + 1]);
  return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530717958647f * u2);
}

}  // namespace onemodel

#endif  // ONEMODEL_CORE_PHILOX_H_
