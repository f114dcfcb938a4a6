#include "data/idx.h"

#include <zlib.h>

#include <vector>

#include "absl/strings/str_cat.h"

namespace onemodel::data {
namespace {

// Whole (decompressed) contents of a gzip or plain file.
absl::StatusOr<std::string> ReadGzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::string out;
  std::vector<char> buf(1 << 20);
  int n;
  while ((n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()))) > 0) out.append(buf.data(), n);
  int err = Z_OK;
  const char* message = gzerror(f, &err);
  gzclose(f);
  if (n < 0 || (err != Z_OK && err != Z_STREAM_END)) {
    return absl::DataLossError(absl::StrCat(path, ": cannot decompress: ", message));
  }
  return out;
}

uint32_t BigEndian32(const std::string& s, size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data() + offset);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// Parses the header of an IDX file of unsigned bytes with `rank` dims; returns the dims.
absl::StatusOr<std::vector<int64_t>> ParseHeader(const std::string& bytes, const std::string& path, int rank) {
  const size_t header = 4 + 4 * static_cast<size_t>(rank);
  if (bytes.size() < header) {
    return absl::DataLossError(absl::StrCat(path, ": ", bytes.size(), " bytes, shorter than the IDX header"));
  }
  const uint32_t magic = BigEndian32(bytes, 0);
  const uint32_t expected = 0x0800u | static_cast<uint32_t>(rank);  // unsigned byte data, `rank` dims
  if (magic != expected) {
    return absl::DataLossError(absl::StrCat(path, ": IDX magic 0x", absl::Hex(magic, absl::kZeroPad8),
                                            ", expected 0x", absl::Hex(expected, absl::kZeroPad8),
                                            " (unsigned bytes, ", rank, " dims)"));
  }
  std::vector<int64_t> dims;
  uint64_t total = 1;
  for (int i = 0; i < rank; ++i) {
    dims.push_back(BigEndian32(bytes, 4 + 4 * i));
    total *= static_cast<uint64_t>(dims.back());
  }
  if (bytes.size() - header != total) {
    return absl::DataLossError(absl::StrCat(path, ": header promises ", total, " bytes of data, file has ",
                                            bytes.size() - header, " (truncated or corrupt)"));
  }
  return dims;
}

}  // namespace

absl::StatusOr<Tensor> ReadIdxImages(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadGzip(path);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<std::vector<int64_t>> dims = ParseHeader(*bytes, path, 3);
  if (!dims.ok()) return dims.status();
  Tensor images = Tensor::Empty(*dims);
  const auto* src = reinterpret_cast<const unsigned char*>(bytes->data() + 16);
  float* dst = images.data<float>();
  for (int64_t i = 0; i < images.numel(); ++i) dst[i] = src[i] / 255.f;
  return images;
}

absl::StatusOr<Tensor> ReadIdxLabels(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadGzip(path);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<std::vector<int64_t>> dims = ParseHeader(*bytes, path, 1);
  if (!dims.ok()) return dims.status();
  Tensor labels = Tensor::Empty(*dims, DType::kI64);
  const auto* src = reinterpret_cast<const unsigned char*>(bytes->data() + 8);
  for (int64_t i = 0; i < labels.numel(); ++i) labels.data<int64_t>()[i] = src[i];
  return labels;
}

absl::StatusOr<LabeledImages> ReadFashionMnist(const std::string& dir, const std::string& split) {
  const std::string images_path = absl::StrCat(dir, "/", split, "-images-idx3-ubyte.gz");
  const std::string labels_path = absl::StrCat(dir, "/", split, "-labels-idx1-ubyte.gz");
  absl::StatusOr<Tensor> images = ReadIdxImages(images_path);
  if (!images.ok()) return images.status();
  absl::StatusOr<Tensor> labels = ReadIdxLabels(labels_path);
  if (!labels.ok()) return labels.status();
  if (images->dim(0) != labels->dim(0)) {
    return absl::DataLossError(absl::StrCat(images_path, " has ", images->dim(0), " images but ", labels_path,
                                            " has ", labels->dim(0), " labels"));
  }
  return LabeledImages{*images, *labels};
}

}  // namespace onemodel::data
