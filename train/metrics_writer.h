// Training metrics as JSON lines (metrics.jsonl: {"step": N, "tag": value, ...} per call) and as a
// TensorBoard event file (events.out.tfevents.*: TFRecord-framed Event protos with scalar summaries).
#ifndef ONEMODEL_TRAIN_METRICS_WRITER_H_
#define ONEMODEL_TRAIN_METRICS_WRITER_H_

#include <cstdio>
#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace onemodel {

class MetricsWriter {
 public:
  // Creates `dir` if needed and opens both files (appending to metrics.jsonl).
  static absl::StatusOr<MetricsWriter> Open(const std::string& dir);
  MetricsWriter(MetricsWriter&& other) noexcept;
  MetricsWriter& operator=(MetricsWriter&&) = delete;
  ~MetricsWriter();

  // One record per call; flushed, so a crash loses at most the call in flight.
  absl::Status Write(int64_t step, const std::map<std::string, double>& scalars);
  const std::string& event_file() const { return event_path_; }

 private:
  MetricsWriter() = default;
  absl::Status WriteRecord(const std::string& data);
  std::string dir_, event_path_;
  FILE* jsonl_ = nullptr;
  FILE* events_ = nullptr;
};

}  // namespace onemodel

#endif  // ONEMODEL_TRAIN_METRICS_WRITER_H_
