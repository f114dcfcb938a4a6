// CRC-32C (Castagnoli), the checksum of checkpoint tensors (as in TFRecord and many storage systems).
#ifndef ONEMODEL_TRAIN_CRC32C_H_
#define ONEMODEL_TRAIN_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace onemodel {

// Extends `crc` (0 to start) over `n` bytes.
uint32_t Crc32c(const void* data, size_t n, uint32_t crc = 0);

}  // namespace onemodel

#endif  // ONEMODEL_TRAIN_CRC32C_H_
