// A grouped bar chart as a PNG (libpng), for `onemodel eval`: one panel per group (a task and its metric), one
// bar per series (a checkpoint) with its value printed above it. Text uses a built-in 3x5 pixel font
// (lower-case letters, digits, . - _ / : %), so no font files are needed.
#ifndef ONEMODEL_TRAIN_BAR_CHART_H_
#define ONEMODEL_TRAIN_BAR_CHART_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace onemodel {

struct BarChart {
  std::vector<std::string> groups;          // panel titles
  std::vector<std::string> series;          // legend entries
  std::vector<std::vector<double>> values;  // [group][series]; NaN: no bar
};

absl::Status WriteBarChartPng(const BarChart& chart, const std::string& path);

}  // namespace onemodel

#endif  // ONEMODEL_TRAIN_BAR_CHART_H_
