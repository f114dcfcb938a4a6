// The Debian packages data comes from: their installed versions, for data manifests.
#ifndef ONEMODEL_DATA_PACKAGES_H_
#define ONEMODEL_DATA_PACKAGES_H_

#include <string>

namespace onemodel::data {

// dpkg's version of an installed package, or "unknown".
std::string PackageVersion(const std::string& package);

}  // namespace onemodel::data

#endif  // ONEMODEL_DATA_PACKAGES_H_
