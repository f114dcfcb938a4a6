// Helper of safetensors_interop_test: `write PATH` writes the fixture tensors; `check PATH` reads a file
// written by Python's safetensors and verifies the same fixture values (exit code 0 when they match).
#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/safetensors.h"

namespace onemodel {
namespace {

// The fixture both sides generate independently: f32 a[i] = sin(i) * 3 over [3, 5], i64 b[i] = i * i - 7
// over [6], i32 c[i] = -i over [2, 2], f32 scalar d = 2.5.
NamedTensors Fixture() {
  std::vector<float> a(15);
  for (int i = 0; i < 15; ++i) a[i] = static_cast<float>(std::sin(i) * 3);
  std::vector<int64_t> b(6);
  for (int i = 0; i < 6; ++i) b[i] = i * i - 7;
  Tensor c = Tensor::Empty({2, 2}, DType::kI32);
  for (int i = 0; i < 4; ++i) c.data<int32_t>()[i] = -i;
  return {{"a", Tensor::FromVector(a, {3, 5})}, {"b", Tensor::FromIndices(b, {6})}, {"c", c}, {"d", Tensor::Scalar(2.5f)}};
}

int Check(const std::string& path) {
  auto reader = SafetensorsReader::Open(path);
  if (!reader.ok()) {
    std::fprintf(stderr, "%s\n", std::string(reader.status().message()).c_str());
    return 1;
  }
  if (reader->metadata().count("writer") == 0 || reader->metadata().at("writer") != "python") {
    std::fprintf(stderr, "%s: metadata 'writer' missing\n", path.c_str());
    return 1;
  }
  for (const auto& [name, expected] : Fixture()) {
    auto got = reader->Read(name, expected.dtype(), expected.shape());
    if (!got.ok()) {
      std::fprintf(stderr, "%s\n", std::string(got.status().message()).c_str());
      return 1;
    }
    if (std::memcmp(got->raw_data(), expected.raw_data(), expected.nbytes()) != 0) {
      std::fprintf(stderr, "%s: tensor '%s' differs\n", path.c_str(), name.c_str());
      return 1;
    }
  }
  std::printf("read %zu tensors written by Python: all equal\n", reader->Names().size());
  return 0;
}

}  // namespace
}  // namespace onemodel

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s write|check PATH\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1], path = argv[2];
  if (mode == "write") {
    const absl::Status s = onemodel::WriteSafetensors(path, onemodel::Fixture(), {{"writer", "onemodel"}});
    if (!s.ok()) std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return s.ok() ? 0 : 1;
  }
  if (mode == "check") return onemodel::Check(path);
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
