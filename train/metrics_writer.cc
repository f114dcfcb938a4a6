#include "train/metrics_writer.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "train/crc32c.h"
#include "train/event.pb.h"

namespace onemodel {
namespace {

// TFRecord's masked CRC-32C.
uint32_t MaskedCrc(const void* data, size_t n) {
  const uint32_t crc = Crc32c(data, n);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

double WallTime() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

absl::StatusOr<MetricsWriter> MetricsWriter::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat(dir, ": cannot create: ", ec.message()));
  MetricsWriter w;
  w.dir_ = dir;
  const std::string jsonl = absl::StrCat(dir, "/metrics.jsonl");
  w.jsonl_ = std::fopen(jsonl.c_str(), "a");
  if (w.jsonl_ == nullptr) return absl::InternalError(absl::StrCat(jsonl, ": cannot open"));
  char host[256] = "localhost";
  gethostname(host, sizeof(host) - 1);
  w.event_path_ = absl::StrFormat("%s/events.out.tfevents.%d.%s.%d", dir, static_cast<int>(WallTime()), host, getpid());
  w.events_ = std::fopen(w.event_path_.c_str(), "wb");
  if (w.events_ == nullptr) return absl::InternalError(absl::StrCat(w.event_path_, ": cannot open"));
  tensorboard::Event version;
  version.set_wall_time(WallTime());
  version.set_file_version("brain.Event:2");
  absl::Status s = w.WriteRecord(version.SerializeAsString());
  if (!s.ok()) return s;
  return w;
}

MetricsWriter::MetricsWriter(MetricsWriter&& o) noexcept
    : dir_(std::move(o.dir_)), event_path_(std::move(o.event_path_)), jsonl_(o.jsonl_), events_(o.events_) {
  o.jsonl_ = nullptr;
  o.events_ = nullptr;
}

MetricsWriter::~MetricsWriter() {
  if (jsonl_ != nullptr) std::fclose(jsonl_);
  if (events_ != nullptr) std::fclose(events_);
}

absl::Status MetricsWriter::WriteRecord(const std::string& data) {
  const uint64_t length = data.size();
  const uint32_t length_crc = MaskedCrc(&length, sizeof(length));  // little-endian, as TFRecord
  const uint32_t data_crc = MaskedCrc(data.data(), data.size());
  const bool ok = std::fwrite(&length, sizeof(length), 1, events_) == 1 &&
                  std::fwrite(&length_crc, sizeof(length_crc), 1, events_) == 1 &&
                  std::fwrite(data.data(), 1, data.size(), events_) == data.size() &&
                  std::fwrite(&data_crc, sizeof(data_crc), 1, events_) == 1 && std::fflush(events_) == 0;
  return ok ? absl::OkStatus() : absl::InternalError(absl::StrCat(event_path_, ": write failed"));
}

absl::Status MetricsWriter::Write(int64_t step, const std::map<std::string, double>& scalars) {
  std::string line = absl::StrCat("{\"step\": ", step);
  tensorboard::Event event;
  event.set_wall_time(WallTime());
  event.set_step(step);
  for (const auto& [tag, value] : scalars) {
    absl::StrAppend(&line, ", ", JsonString(tag), ": ", std::isfinite(value) ? absl::StrFormat("%.9g", value) : "null");
    auto* v = event.mutable_summary()->add_value();
    v->set_tag(tag);
    v->set_simple_value(static_cast<float>(value));
  }
  line += "}\n";
  if (std::fputs(line.c_str(), jsonl_) < 0 || std::fflush(jsonl_) != 0) {
    return absl::InternalError(absl::StrCat(dir_, "/metrics.jsonl: write failed"));
  }
  return WriteRecord(event.SerializeAsString());
}

}  // namespace onemodel
