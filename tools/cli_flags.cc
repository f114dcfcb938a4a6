#include "tools/cli_flags.h"

#include <algorithm>
#include <cstdio>

namespace onemodel {

bool ParseFlags(const std::vector<std::string>& args, const std::vector<std::string>& known, Flags* out,
                const char* usage, const std::vector<std::string>& switches) {
  for (size_t i = 0; i < args.size();) {
    const std::string& flag = args[i];
    const std::string name = flag.rfind("--", 0) == 0 ? flag.substr(2) : "";
    if (std::find(switches.begin(), switches.end(), name) != switches.end()) {
      out->emplace_back(name, "true");
      i += 1;
      continue;
    }
    const bool ok = !name.empty() && std::find(known.begin(), known.end(), name) != known.end();
    if (!ok || i + 1 >= args.size()) {
      std::fprintf(stderr, "onemodel: %s flag %s\n%s", ok ? "missing value for" : "unknown", flag.c_str(), usage);
      return false;
    }
    out->emplace_back(name, args[i + 1]);
    i += 2;
  }
  return true;
}

std::string Flag(const Flags& flags, const std::string& name, const std::string& fallback) {
  std::string value = fallback;
  for (const auto& [n, v] : flags) {
    if (n == name) value = v;
  }
  return value;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "onemodel: %s\n", std::string(status.message()).c_str());
  return 1;
}

}  // namespace onemodel
