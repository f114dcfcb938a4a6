// Command-line flags of the onemodel commands: "--name value" pairs, and switches ("--dry-run") without a value.
#ifndef ONEMODEL_TOOLS_CLI_FLAGS_H_
#define ONEMODEL_TOOLS_CLI_FLAGS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace onemodel {

using Flags = std::vector<std::pair<std::string, std::string>>;

// Parses `args` into `out` (a switch's value is "true"); returns false after printing why and `usage` on an
// unknown flag or a missing value.
bool ParseFlags(const std::vector<std::string>& args, const std::vector<std::string>& known, Flags* out,
                const char* usage, const std::vector<std::string>& switches = {});

// The last value given for `name`, or `fallback`.
std::string Flag(const Flags& flags, const std::string& name, const std::string& fallback = "");

// Prints "onemodel: <message>" to stderr; returns 1 (the exit status of a failed command).
int Fail(const absl::Status& status);

}  // namespace onemodel

#endif  // ONEMODEL_TOOLS_CLI_FLAGS_H_
