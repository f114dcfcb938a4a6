#include "train/bar_chart.h"

#include <png.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace onemodel {
namespace {

using Rgb = std::array<uint8_t, 3>;

// 3x5 glyphs, rows top to bottom, '#' set.
const std::map<char, std::array<const char*, 5>>& Font() {
  static const auto* font = new std::map<char, std::array<const char*, 5>>{
      {'a', {".#.", "#.#", "###", "#.#", "#.#"}}, {'b', {"##.", "#.#", "##.", "#.#", "##."}},
      {'c', {".##", "#..", "#..", "#..", ".##"}}, {'d', {"##.", "#.#", "#.#", "#.#", "##."}},
      {'e', {"###", "#..", "##.", "#..", "###"}}, {'f', {"###", "#..", "##.", "#..", "#.."}},
      {'g', {".##", "#..", "#.#", "#.#", ".##"}}, {'h', {"#.#", "#.#", "###", "#.#", "#.#"}},
      {'i', {"###", ".#.", ".#.", ".#.", "###"}}, {'j', {"..#", "..#", "..#", "#.#", ".#."}},
      {'k', {"#.#", "#.#", "##.", "#.#", "#.#"}}, {'l', {"#..", "#..", "#..", "#..", "###"}},
      {'m', {"#.#", "###", "###", "#.#", "#.#"}}, {'n', {"##.", "#.#", "#.#", "#.#", "#.#"}},
      {'o', {".#.", "#.#", "#.#", "#.#", ".#."}}, {'p', {"##.", "#.#", "##.", "#..", "#.."}},
      {'q', {".#.", "#.#", "#.#", "##.", ".##"}}, {'r', {"##.", "#.#", "##.", "#.#", "#.#"}},
      {'s', {".##", "#..", ".#.", "..#", "##."}}, {'t', {"###", ".#.", ".#.", ".#.", ".#."}},
      {'u', {"#.#", "#.#", "#.#", "#.#", "###"}}, {'v', {"#.#", "#.#", "#.#", "#.#", ".#."}},
      {'w', {"#.#", "#.#", "###", "###", "#.#"}}, {'x', {"#.#", "#.#", ".#.", "#.#", "#.#"}},
      {'y', {"#.#", "#.#", ".#.", ".#.", ".#."}}, {'z', {"###", "..#", ".#.", "#..", "###"}},
      {'0', {"###", "#.#", "#.#", "#.#", "###"}}, {'1', {".#.", "##.", ".#.", ".#.", "###"}},
      {'2', {"##.", "..#", ".#.", "#..", "###"}}, {'3', {"##.", "..#", ".#.", "..#", "##."}},
      {'4', {"#.#", "#.#", "###", "..#", "..#"}}, {'5', {"###", "#..", "##.", "..#", "##."}},
      {'6', {".##", "#..", "###", "#.#", "###"}}, {'7', {"###", "..#", ".#.", ".#.", ".#."}},
      {'8', {"###", "#.#", "###", "#.#", "###"}}, {'9', {"###", "#.#", "###", "..#", "##."}},
      {'.', {"...", "...", "...", "...", ".#."}}, {'-', {"...", "...", "###", "...", "..."}},
      {'_', {"...", "...", "...", "...", "###"}}, {'/', {"..#", "..#", ".#.", "#..", "#.."}},
      {':', {"...", ".#.", "...", ".#.", "..."}}, {'%', {"#.#", "..#", ".#.", "#..", "#.#"}},
  };
  return *font;
}

class Canvas {
 public:
  Canvas(int w, int h) : w_(w), h_(h), pixels_(static_cast<size_t>(w) * h, Rgb{255, 255, 255}) {}
  void Rect(int x0, int y0, int x1, int y1, Rgb c) {
    for (int y = std::max(0, y0); y < std::min(h_, y1); ++y) {
      for (int x = std::max(0, x0); x < std::min(w_, x1); ++x) pixels_[static_cast<size_t>(y) * w_ + x] = c;
    }
  }
  // Text at scale `s` (each font pixel s x s); characters without a glyph are blanks.
  void Text(int x, int y, const std::string& text, int s, Rgb c) {
    for (char ch : text) {
      const auto it = Font().find(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
      if (it != Font().end()) {
        for (int r = 0; r < 5; ++r) {
          for (int q = 0; q < 3; ++q) {
            if (it->second[r][q] == '#') Rect(x + q * s, y + r * s, x + (q + 1) * s, y + (r + 1) * s, c);
          }
        }
      }
      x += 4 * s;
    }
  }
  static int TextWidth(const std::string& text, int s) { return static_cast<int>(text.size()) * 4 * s; }

  absl::Status WritePng(const std::string& path) const {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return absl::InternalError(absl::StrCat(path, ": cannot write"));
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
      png_destroy_write_struct(&png, &info);
      std::fclose(f);
      return absl::InternalError(absl::StrCat(path, ": PNG encoding failed"));
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, w_, h_, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h_; ++y) {
      png_write_row(png, reinterpret_cast<png_const_bytep>(pixels_.data() + static_cast<size_t>(y) * w_));
    }
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    return std::fclose(f) == 0 ? absl::OkStatus() : absl::InternalError(absl::StrCat(path, ": write failed"));
  }

 private:
  int w_, h_;
  std::vector<Rgb> pixels_;
};

constexpr Rgb kPalette[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40}, {148, 103, 189},
                            {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
constexpr Rgb kInk = {40, 40, 40};

}  // namespace

absl::Status WriteBarChartPng(const BarChart& chart, const std::string& path) {
  const int bar = 36, gap = 12, pad = 24, plot_h = 180, top = 40, legend_row = 16;
  const int series = static_cast<int>(chart.series.size());
  int panel_w = series * (bar + gap) + gap;
  for (const std::string& g : chart.groups) panel_w = std::max(panel_w, Canvas::TextWidth(g, 2) + gap);
  const int width = pad + static_cast<int>(chart.groups.size()) * (panel_w + pad);
  const int height = top + plot_h + 16 + series * legend_row + pad;
  Canvas canvas(width, height);
  for (size_t g = 0; g < chart.groups.size(); ++g) {
    const int x0 = pad + static_cast<int>(g) * (panel_w + pad), base = top + plot_h;
    canvas.Text(x0, 12, chart.groups[g], 2, kInk);
    double high = 0;
    for (double v : chart.values[g]) {
      if (std::isfinite(v)) high = std::max(high, v);
    }
    if (high <= 0) high = 1;
    canvas.Rect(x0, base, x0 + panel_w, base + 2, kInk);
    for (int s = 0; s < series; ++s) {
      const double v = chart.values[g][s];
      if (!std::isfinite(v)) continue;
      const int h = static_cast<int>(std::round((plot_h - 20) * std::max(0.0, v) / high));
      const int x = x0 + gap + s * (bar + gap);
      canvas.Rect(x, base - h, x + bar, base, kPalette[s % 10]);
      const std::string label = absl::StrFormat(v < 1 ? "%.3f" : "%.1f", v);
      canvas.Text(x + (bar - Canvas::TextWidth(label, 1)) / 2, base - h - 8, label, 1, kInk);
    }
  }
  for (int s = 0; s < series; ++s) {
    const int y = top + plot_h + 16 + s * legend_row;
    canvas.Rect(pad, y, pad + 10, y + 10, kPalette[s % 10]);
    canvas.Text(pad + 16, y, chart.series[s], 2, kInk);
  }
  return canvas.WritePng(path);
}

}  // namespace onemodel
