#include "core/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace onemodel {
namespace {

using json = nlohmann::json;

// Bounds a header so a corrupt length cannot make us allocate gigabytes.
constexpr uint64_t kMaxHeaderBytes = 100 << 20;

const char* SafetensorsDType(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "F32";
    case DType::kI32: return "I32";
    case DType::kI64: return "I64";
    case DType::kBF16: return "BF16";
  }
  return "?";
}

bool ParseDType(const std::string& s, DType* out) {
  for (DType d : {DType::kF32, DType::kI32, DType::kI64, DType::kBF16}) {
    if (s == SafetensorsDType(d)) {
      *out = d;
      return true;
    }
  }
  return false;
}

absl::Status WriteAll(int fd, const void* data, size_t n, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) return absl::InternalError(absl::StrCat(path, ": write failed: ", std::strerror(errno)));
    p += w;
    n -= static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteSafetensors(const std::string& path, const NamedTensors& tensors,
                              const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  size_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__" || header.contains(name)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": tensor name '", name, "' is reserved or repeated"));
    }
    header[name] = {{"dtype", SafetensorsDType(t.dtype())}, {"shape", t.shape()},
                    {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned, as the reference writer does
  const uint64_t length = text.size();
  unsigned char length_bytes[8];
  for (int i = 0; i < 8; ++i) length_bytes[i] = static_cast<unsigned char>(length >> (8 * i));

  const std::string tmp = absl::StrCat(path, ".tmp.", ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat(tmp, ": cannot create: ", std::strerror(errno)));
  absl::Status status = WriteAll(fd, length_bytes, 8, tmp);
  if (status.ok()) status = WriteAll(fd, text.data(), text.size(), tmp);
  for (const auto& [name, t] : tensors) {
    if (!status.ok()) break;
    const Tensor host = t.To(Device::CPU());
    status = WriteAll(fd, host.raw_data(), host.nbytes(), tmp);
  }
  if (status.ok() && ::fsync(fd) != 0) status = absl::InternalError(absl::StrCat(tmp, ": fsync failed"));
  ::close(fd);
  if (status.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    status = absl::InternalError(absl::StrCat(path, ": rename from ", tmp, " failed: ", std::strerror(errno)));
  }
  if (!status.ok()) std::remove(tmp.c_str());
  return status;
}

absl::StatusOr<SafetensorsReader> SafetensorsReader::Open(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
  auto bad = [&path](const std::string& what) {
    return absl::DataLossError(absl::StrCat(path, ": not a valid safetensors file: ", what));
  };
  if (bytes.size() < 8) return bad(absl::StrCat("file has ", bytes.size(), " bytes, fewer than the 8-byte header length"));
  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  if (header_len > kMaxHeaderBytes || header_len > bytes.size() - 8) {
    return bad(absl::StrCat("header length ", header_len, " exceeds the file (", bytes.size(), " bytes)"));
  }
  const json header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + header_len, nullptr, false);
  if (header.is_discarded() || !header.is_object()) return bad("header is not a JSON object");

  SafetensorsReader reader;
  reader.path_ = path;
  reader.data_ = bytes.substr(8 + header_len);
  std::vector<std::pair<size_t, size_t>> spans;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) return bad("__metadata__ is not an object");
      for (const auto& [k, v] : info.items()) {
        if (!v.is_string()) return bad(absl::StrCat("__metadata__ value of '", k, "' is not a string"));
        reader.metadata_[k] = v.get<std::string>();
      }
      continue;
    }
    auto bad_tensor = [&](const std::string& what) { return bad(absl::StrCat("tensor '", name, "': ", what)); };
    if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") || !info.contains("data_offsets")) {
      return bad_tensor("needs dtype, shape and data_offsets");
    }
    Entry e;
    if (!info["dtype"].is_string() || !ParseDType(info["dtype"].get<std::string>(), &e.dtype)) {
      return bad_tensor(absl::StrCat("unsupported dtype ", info["dtype"].dump(), " (F32, I32, I64, BF16)"));
    }
    const json& shape = info["shape"];
    if (!shape.is_array()) return bad_tensor("shape is not an array");
    uint64_t numel = 1;
    for (const json& d : shape) {
      if (!d.is_number_unsigned()) return bad_tensor(absl::StrCat("shape ", shape.dump(), " has a non-integer dim"));
      const uint64_t dim = d.get<uint64_t>();
      if (__builtin_mul_overflow(numel, dim, &numel) || numel > bytes.size()) {
        return bad_tensor(absl::StrCat("shape ", shape.dump(), " is larger than the file"));
      }
      e.shape.push_back(static_cast<int64_t>(dim));
    }
    const json& offsets = info["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
      return bad_tensor("data_offsets must be two non-negative integers");
    }
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    if (begin > end || end > reader.data_.size()) {
      return bad_tensor(absl::StrCat("data_offsets [", begin, ", ", end, "] outside the data section of ",
                                     reader.data_.size(), " bytes (file truncated?)"));
    }
    if (end - begin != numel * DTypeSize(e.dtype)) {
      return bad_tensor(absl::StrCat("data_offsets span ", end - begin, " bytes but shape ", shape.dump(), " ",
                                     info["dtype"].get<std::string>(), " needs ", numel * DTypeSize(e.dtype)));
    }
    e.begin = begin;
    e.end = end;
    spans.emplace_back(begin, end);
    reader.entries_[name] = std::move(e);
  }
  // The format requires the tensors to tile the data section exactly: no overlaps, no holes.
  std::sort(spans.begin(), spans.end());
  size_t cursor = 0;
  for (const auto& [begin, end] : spans) {
    if (begin != cursor) return bad(absl::StrCat("tensor data overlaps or leaves a hole at byte ", cursor));
    cursor = end;
  }
  if (cursor != reader.data_.size()) {
    return bad(absl::StrCat("data section has ", reader.data_.size(), " bytes, tensors cover ", cursor));
  }
  return reader;
}

std::vector<std::string> SafetensorsReader::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, _] : entries_) names.push_back(name);
  return names;
}

absl::StatusOr<Tensor> SafetensorsReader::Read(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) return absl::NotFoundError(absl::StrCat(path_, ": no tensor named '", name, "'"));
  const Entry& e = it->second;
  Tensor t = Tensor::Empty(e.shape, e.dtype);
  std::memcpy(t.raw_data(), data_.data() + e.begin, e.end - e.begin);
  return t;
}

absl::StatusOr<Tensor> SafetensorsReader::Read(const std::string& name, DType dtype, const Shape& shape) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) return absl::NotFoundError(absl::StrCat(path_, ": no tensor named '", name, "'"));
  const Entry& e = it->second;
  if (e.dtype != dtype || e.shape != shape) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": tensor '", name, "' is ", DTypeName(e.dtype), " ",
                                                   ShapeToString(e.shape), ", expected ", DTypeName(dtype), " ",
                                                   ShapeToString(shape)));
  }
  return Read(name);
}

}  // namespace onemodel
