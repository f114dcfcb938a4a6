#include "data/stamps.h"

#include <png.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace onemodel::data {

absl::StatusOr<GrayImage> ReadPng(const std::string& path) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&png, path.c_str())) {
    return absl::DataLossError(absl::StrCat(path, ": not a readable PNG (", png.message, ")"));
  }
  png.format = PNG_FORMAT_GA;  // libpng converts colour to gray and expands palettes and low bit depths
  std::vector<uint8_t> buffer(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, buffer.data(), 0, nullptr)) {
    const std::string why = png.message;
    png_image_free(&png);
    return absl::DataLossError(absl::StrCat(path, ": cannot decode the PNG (", why, ")"));
  }
  GrayImage image;
  image.height = png.height;
  image.width = png.width;
  image.pixels.resize(image.height * image.width);
  for (size_t i = 0; i < image.pixels.size(); ++i) {
    image.pixels[i] = buffer[2 * i] / 255.f * (buffer[2 * i + 1] / 255.f);
  }
  return image;
}

std::vector<float> FitToSquare(const GrayImage& image, int64_t side) {
  std::vector<float> out(side * side, 0.f);
  const int64_t longest = std::max(image.height, image.width);
  if (longest == 0) return out;
  const int64_t h = std::max<int64_t>(1, image.height * side / longest);
  const int64_t w = std::max<int64_t>(1, image.width * side / longest);
  const int64_t top = (side - h) / 2, left = (side - w) / 2;
  // Output pixel (y, x) covers source rows [y * H / h, (y + 1) * H / h), at least one row (likewise columns).
  auto span = [](int64_t i, int64_t in, int64_t n) {
    const int64_t begin = i * in / n;
    return std::pair<int64_t, int64_t>{begin, std::max(begin + 1, (i + 1) * in / n)};
  };
  for (int64_t y = 0; y < h; ++y) {
    const auto [y0, y1] = span(y, image.height, h);
    for (int64_t x = 0; x < w; ++x) {
      const auto [x0, x1] = span(x, image.width, w);
      double sum = 0;
      for (int64_t sy = y0; sy < y1; ++sy) {
        for (int64_t sx = x0; sx < x1; ++sx) sum += image.pixels[sy * image.width + sx];
      }
      out[(top + y) * side + left + x] = static_cast<float>(sum / ((y1 - y0) * (x1 - x0)));
    }
  }
  return out;
}

absl::StatusOr<CaptionedImages> ReadStamps(const std::string& dir, int64_t side) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    return absl::NotFoundError(absl::StrCat(dir, ": no such directory (Debian package tuxpaint-stamps-default)"));
  }
  std::vector<fs::path> descriptions;
  for (fs::recursive_directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    if (it->is_regular_file() && it->path().extension() == ".txt") descriptions.push_back(it->path());
  }
  if (error) return absl::InternalError(absl::StrCat(dir, ": cannot list: ", error.message()));
  std::sort(descriptions.begin(), descriptions.end());
  CaptionedImages out;
  std::vector<float> pixels;
  for (const fs::path& txt : descriptions) {
    fs::path png = txt;
    png.replace_extension(".png");
    if (!fs::exists(png)) continue;
    std::ifstream in(txt);
    if (!in) {
      out.skipped.push_back(absl::StrCat(txt.string(), ": cannot read"));
      continue;
    }
    std::string caption;
    std::getline(in, caption);
    caption = absl::AsciiStrToLower(absl::StripAsciiWhitespace(caption));
    if (caption.empty()) {
      out.skipped.push_back(absl::StrCat(txt.string(), ": no description on its first line"));
      continue;
    }
    absl::StatusOr<GrayImage> image = ReadPng(png.string());
    if (!image.ok()) {
      out.skipped.push_back(std::string(image.status().message()));
      continue;
    }
    const std::vector<float> fitted = FitToSquare(*image, side);
    pixels.insert(pixels.end(), fitted.begin(), fitted.end());
    out.captions.push_back(caption);
  }
  out.images = Tensor::FromVector(pixels, {static_cast<int64_t>(out.captions.size()), side, side});
  return out;
}

}  // namespace onemodel::data
