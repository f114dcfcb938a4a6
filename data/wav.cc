#include "data/wav.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace onemodel::data {
namespace {

uint32_t U32(const unsigned char* p) { return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24; }
uint16_t U16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
void Put32(std::string* s, uint32_t v) { for (int i = 0; i < 4; ++i) s->push_back(static_cast<char>(v >> (8 * i))); }
void Put16(std::string* s, uint16_t v) { for (int i = 0; i < 2; ++i) s->push_back(static_cast<char>(v >> (8 * i))); }

}  // namespace

absl::StatusOr<Audio> ReadWav(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto bad = [&](const std::string& why) { return absl::DataLossError(absl::StrCat(path, ": ", why)); };
  if (bytes.empty()) return bad("empty file, not a WAV file");
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 12) return bad("truncated RIFF header");
  if (std::memcmp(b, "RIFF", 4) != 0 || std::memcmp(b + 8, "WAVE", 4) != 0) return bad("not a RIFF/WAVE file");
  bool have_format = false;
  Audio audio;
  for (size_t at = 12; at + 8 <= bytes.size();) {
    const uint32_t size = U32(b + at + 4);
    const unsigned char* chunk = b + at + 8;
    const size_t available = bytes.size() - at - 8;
    if (std::memcmp(b + at, "fmt ", 4) == 0) {
      if (size < 16 || available < 16) return bad("truncated 'fmt ' chunk");
      const uint16_t format = U16(chunk), channels = U16(chunk + 2), bits = U16(chunk + 14);
      audio.sample_rate = static_cast<int>(U32(chunk + 4));
      if (format != 1) return bad(absl::StrCat("sample format ", format, "; expected 1 (PCM)"));
      if (channels != 1) return bad(absl::StrCat(channels, " channels; expected mono"));
      if (bits != 16) return bad(absl::StrCat(bits, "-bit samples; expected 16-bit"));
      if (audio.sample_rate <= 0) return bad("sample rate 0");
      have_format = true;
    } else if (std::memcmp(b + at, "data", 4) == 0) {
      if (!have_format) return bad("'data' before 'fmt ' chunk");
      if (size > available) return bad(absl::StrCat("truncated: the data chunk says ", size, " bytes, ", available, " follow"));
      if (size < 2) return bad("no samples");
      audio.samples.resize(size / 2);
      for (size_t i = 0; i < audio.samples.size(); ++i) {
        audio.samples[i] = static_cast<int16_t>(U16(chunk + 2 * i)) / 32768.f;
      }
      return audio;
    }
    at += 8 + size + (size & 1);  // chunks are padded to even sizes
  }
  return bad(have_format ? "no 'data' chunk" : "truncated header: no 'fmt ' chunk");
}

absl::Status WriteWav(const std::string& path, const Audio& audio) {
  std::string s = "RIFF";
  const uint32_t data_bytes = static_cast<uint32_t>(audio.samples.size() * 2);
  Put32(&s, 36 + data_bytes);
  s += "WAVEfmt ";
  Put32(&s, 16);
  Put16(&s, 1);
  Put16(&s, 1);
  Put32(&s, static_cast<uint32_t>(audio.sample_rate));
  Put32(&s, static_cast<uint32_t>(audio.sample_rate * 2));
  Put16(&s, 2);
  Put16(&s, 16);
  s += "data";
  Put32(&s, data_bytes);
  for (float x : audio.samples) {
    Put16(&s, static_cast<uint16_t>(static_cast<int16_t>(std::lround(std::clamp(x, -1.f, 32767.f / 32768.f) * 32768.f))));
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << s;
  return out.flush() ? absl::OkStatus() : absl::InternalError(absl::StrCat(path, ": write failed"));
}

std::vector<float> Resample(const std::vector<float>& x, int from_rate, int to_rate) {
  if (from_rate == to_rate || x.empty()) return x;
  constexpr int kZeros = 16;
  // Polyphase: output j sits at input position j * M / L; its fractional part takes one of L phases, each with
  // its own taps (computed once), so a resampled second costs rate * taps multiply-adds, not trig calls.
  const int g = std::gcd(from_rate, to_rate);
  const int64_t up = to_rate / g, down = from_rate / g;
  const double cutoff = std::min(1.0, static_cast<double>(up) / down);  // of the input's Nyquist rate
  const int half = static_cast<int>(std::ceil(kZeros / cutoff));        // taps each side, in input samples
  std::vector<float> taps(up * (2 * half + 1));
  for (int64_t phase = 0; phase < up; ++phase) {
    const double frac = static_cast<double>(phase) / up;  // t - floor(t)
    for (int k = -half; k <= half; ++k) {
      const double d = (frac - k) * cutoff;  // input sample floor(t) + k
      const double sinc = d == 0 ? 1.0 : std::sin(M_PI * d) / (M_PI * d);
      const double window = std::abs(d) >= kZeros ? 0.0 : 0.5 + 0.5 * std::cos(M_PI * d / kZeros);
      taps[phase * (2 * half + 1) + k + half] = static_cast<float>(sinc * window * cutoff);
    }
  }
  const int64_t n = static_cast<int64_t>(x.size()) * up / down, size = static_cast<int64_t>(x.size());
  std::vector<float> y(n);
  for (int64_t j = 0; j < n; ++j) {
    const int64_t base = j * down / up, phase = j * down % up;
    const float* t = &taps[phase * (2 * half + 1)];
    double sum = 0;
    for (int k = -half; k <= half; ++k) {
      const int64_t i = base + k;
      if (i >= 0 && i < size) sum += x[i] * t[k + half];
    }
    y[j] = static_cast<float>(sum);
  }
  return y;
}

}  // namespace onemodel::data
