#include "configs/config.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace onemodel {
namespace {

// Collects the parser's first error with its position, instead of protobuf's default stderr logging.
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  explicit FirstError(std::string source) : source_(std::move(source)) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    if (message_.empty()) message_ = absl::StrCat(source_, ":", line + 1, ":", column + 1, ": ", message);
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  const std::string& message() const { return message_; }

 private:
  std::string source_;
  std::string message_;
};

}  // namespace

absl::StatusOr<config::Experiment> ParseExperiment(const std::string& text, const std::string& source) {
  config::Experiment experiment;
  FirstError errors(source);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &experiment)) {
    return absl::InvalidArgumentError(errors.message().empty() ? absl::StrCat(source, ": cannot parse config")
                                                               : errors.message());
  }
  return experiment;
}

absl::StatusOr<config::Experiment> LoadExperiment(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open config"));
  std::stringstream text;
  text << in.rdbuf();
  return ParseExperiment(text.str(), path);
}

}  // namespace onemodel
