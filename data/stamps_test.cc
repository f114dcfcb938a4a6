#include "data/stamps.h"

#include <png.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace onemodel::data {
namespace {

namespace fs = std::filesystem;

void WritePng(const std::string& path, int width, int height, uint32_t format, const std::vector<uint8_t>& pixels) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = width;
  png.height = height;
  png.format = format;
  ASSERT_TRUE(png_image_write_to_file(&png, path.c_str(), 0, pixels.data(), 0, nullptr)) << png.message;
}

std::string TempDir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

TEST(StampsTest, GrayTimesAlphaFromAnyColourType) {
  const std::string dir = TempDir("png");
  // Gray + alpha: (200, opaque) (200, half) (0, opaque) (255, clear).
  WritePng(dir + "/ga.png", 2, 2, PNG_FORMAT_GA, {200, 255, 200, 128, 0, 255, 255, 0});
  absl::StatusOr<GrayImage> ga = ReadPng(dir + "/ga.png");
  ASSERT_TRUE(ga.ok()) << ga.status();
  ASSERT_EQ(ga->height, 2);
  ASSERT_EQ(ga->width, 2);
  EXPECT_NEAR(ga->pixels[0], 200 / 255.f, 1e-6);
  EXPECT_NEAR(ga->pixels[1], 200 / 255.f * 128 / 255.f, 1e-6);
  EXPECT_EQ(ga->pixels[2], 0.f);
  EXPECT_EQ(ga->pixels[3], 0.f);
  // RGBA: white, black and mid gray, opaque; a red pixel is darker than white and lighter than black.
  WritePng(dir + "/rgba.png", 4, 1, PNG_FORMAT_RGBA,
           {255, 255, 255, 255, 0, 0, 0, 255, 128, 128, 128, 255, 255, 0, 0, 255});
  absl::StatusOr<GrayImage> rgba = ReadPng(dir + "/rgba.png");
  ASSERT_TRUE(rgba.ok()) << rgba.status();
  EXPECT_NEAR(rgba->pixels[0], 1.f, 1e-6);
  EXPECT_EQ(rgba->pixels[1], 0.f);
  EXPECT_NEAR(rgba->pixels[2], 128 / 255.f, 2 / 255.f);
  EXPECT_GT(rgba->pixels[3], 0.1f);
  EXPECT_LT(rgba->pixels[3], 0.9f);
}

TEST(StampsTest, BadFilesAreNamed) {
  const std::string dir = TempDir("bad_png");
  std::ofstream(dir + "/text.png") << "not a png";
  absl::StatusOr<GrayImage> text = ReadPng(dir + "/text.png");
  EXPECT_FALSE(text.ok());
  EXPECT_NE(text.status().message().find(dir + "/text.png: not a readable PNG"), std::string::npos) << text.status();
  WritePng(dir + "/whole.png", 16, 16, PNG_FORMAT_GRAY, std::vector<uint8_t>(256, 7));
  fs::resize_file(dir + "/whole.png", fs::file_size(dir + "/whole.png") / 2);
  absl::StatusOr<GrayImage> cut = ReadPng(dir + "/whole.png");
  EXPECT_FALSE(cut.ok());
  EXPECT_NE(cut.status().message().find(dir + "/whole.png: "), std::string::npos) << cut.status();
  EXPECT_FALSE(ReadPng(dir + "/missing.png").ok());
}

TEST(StampsTest, FitToSquareAveragesBoxesAndCentres) {
  // 4 rows x 8 columns -> 2 x 4 in a 4 x 4 frame, rows 1-2: each output pixel the mean of a 2 x 2 block.
  GrayImage image{4, 8, std::vector<float>(32)};
  for (int i = 0; i < 32; ++i) image.pixels[i] = static_cast<float>(i);
  const std::vector<float> out = FitToSquare(image, 4);
  for (int x = 0; x < 4; ++x) {
    EXPECT_EQ(out[x], 0.f);
    EXPECT_FLOAT_EQ(out[4 + x], (0 + 1 + 8 + 9) / 4.f + 2 * x);
    EXPECT_FLOAT_EQ(out[8 + x], (16 + 17 + 24 + 25) / 4.f + 2 * x);
    EXPECT_EQ(out[12 + x], 0.f);
  }
  // Upscaling repeats source pixels: 1 x 1 -> the whole frame.
  EXPECT_EQ(FitToSquare(GrayImage{1, 1, {0.5f}}, 3), std::vector<float>(9, 0.5f));
}

TEST(StampsTest, ReadsCaptionedStampsAndReportsTheRest) {
  const std::string dir = TempDir("stamps");
  fs::create_directories(dir + "/animals");
  WritePng(dir + "/animals/frog.png", 2, 2, PNG_FORMAT_GRAY, {255, 255, 255, 255});
  std::ofstream(dir + "/animals/frog.txt") << "A frog.\nfr.utf8=Une grenouille.\n";
  std::ofstream(dir + "/animals/svg-only.txt") << "Drawn as SVG only.\n";  // no PNG: left out
  std::ofstream(dir + "/broken.txt") << "A broken stamp.\n";
  std::ofstream(dir + "/broken.png") << "garbage";
  WritePng(dir + "/silent.png", 1, 1, PNG_FORMAT_GRAY, {9});
  std::ofstream(dir + "/silent.txt") << "\n";
  absl::StatusOr<CaptionedImages> stamps = ReadStamps(dir, 8);
  ASSERT_TRUE(stamps.ok()) << stamps.status();
  ASSERT_EQ(stamps->captions, std::vector<std::string>{"a frog."});
  EXPECT_EQ(stamps->images.shape(), (Shape{1, 8, 8}));
  EXPECT_EQ(stamps->images.ToVector(), std::vector<float>(64, 1.f));
  ASSERT_EQ(stamps->skipped.size(), 2u);
  EXPECT_NE(stamps->skipped[0].find("broken.png: not a readable PNG"), std::string::npos) << stamps->skipped[0];
  EXPECT_NE(stamps->skipped[1].find("silent.txt: no description"), std::string::npos) << stamps->skipped[1];
  EXPECT_FALSE(ReadStamps(dir + "/nowhere", 8).ok());
}

}  // namespace
}  // namespace onemodel::data
