// The Tux Paint stamps (Debian `tuxpaint-stamps-default`, DESIGN §5) as a real captioning test set: each stamp's
// PNG with the English one-line description beside it (`<name>.txt`, first line: "A frog."). A stamp is drawn as
// Fashion-MNIST draws its items — light on black: the luminance of the stamp over a black background — scaled to fit
// a side x side frame and centred.
#ifndef ONEMODEL_DATA_STAMPS_H_
#define ONEMODEL_DATA_STAMPS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/tensor.h"

namespace onemodel::data {

struct GrayImage {
  int64_t height = 0, width = 0;
  std::vector<float> pixels;  // [height, width] in [0, 1]: gray times alpha (over black)
};

// Reads a PNG of any colour type and depth. A file that is missing, not a PNG or cut short is an error naming it.
absl::StatusOr<GrayImage> ReadPng(const std::string& path);

// `image` scaled (box filter: each output pixel averages the source pixels under it) to fit side x side with its
// aspect ratio kept, centred on black.
std::vector<float> FitToSquare(const GrayImage& image, int64_t side);

struct CaptionedImages {
  Tensor images;                      // [N, side, side] f32
  std::vector<std::string> captions;  // lower case, as the caption task writes
  std::vector<std::string> skipped;   // "<file>: why" for each stamp that could not be read
};

// Every `<name>.txt` under `dir` (recursively, in path order) whose `<name>.png` exists; stamps drawn only as SVG
// are left out. Unreadable PNGs and empty descriptions are reported in `skipped`, not fatal.
absl::StatusOr<CaptionedImages> ReadStamps(const std::string& dir, int64_t side);

}  // namespace onemodel::data

#endif  // ONEMODEL_DATA_STAMPS_H_
