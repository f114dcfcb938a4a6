#include "train/crc32c.h"

#include <cstring>

#include "gtest/gtest.h"

namespace onemodel {
namespace {

TEST(Crc32cTest, KnownValues) {
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);  // the standard check value of CRC-32C
  EXPECT_EQ(Crc32c("", 0), 0u);
  // Extending equals computing at once.
  EXPECT_EQ(Crc32c("6789", 4, Crc32c("12345", 5)), 0xE3069283u);
}

}  // namespace
}  // namespace onemodel
