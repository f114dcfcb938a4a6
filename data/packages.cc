#include "data/packages.h"

#include <array>
#include <cstdio>

namespace onemodel::data {

std::string PackageVersion(const std::string& package) {
  std::string out;
  if (FILE* p = popen(("dpkg-query -W -f='${Version}' " + package + " 2>/dev/null").c_str(), "r")) {
    std::array<char, 128> buf;
    while (std::fgets(buf.data(), buf.size(), p)) out += buf.data();
    pclose(p);
  }
  return out.empty() ? "unknown" : out;
}

}  // namespace onemodel::data
