// Builds the speech data cache (DESIGN §5): <out>/speech/{train,dev,real}.safetensors + .tsv + manifest.json.
// - train: utterances of the text pool (speech_text.h) synthesized by espeak-ng in 7 English accents x ~50 voice
//   variants, at random speeds and pitches, half of them band-limited through 8 kHz like the real recordings;
// - dev: the same kind of text in voices held out from training (the Caribbean accent, 5 variants not trained on);
// - real: the human recordings of Debian's asterisk-core-sounds-en-wav (8 kHz, resampled to 16 kHz) with their
//   transcripts; the group column says "digits" for the digits/ numbers, else the folder or "prompts".
// Features are 40-band log-mel frames (log_mel.h): "features" [frames, 40] f32 and "frames" [N] i64 per split; the
// .tsv has `source<TAB>group<TAB>transcript<TAB>phonemes` per utterance (phonemes: with options.phonemes, each
// training transcript's dictionary pronunciation as PhonemeSymbols separated by spaces; otherwise empty). Bad recordings are reported and skipped (or, strict,
// stop the build); the manifest lists them. Written into a temporary directory, renamed into place.
#ifndef ONEMODEL_DATA_SPEECH_BUILDER_H_
#define ONEMODEL_DATA_SPEECH_BUILDER_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace onemodel::data {

inline constexpr int kSpeechMels = 40;

struct SpeechBuildOptions {
  std::string out_dir = "data_cache";
  // Synthetic utterances. 24,000 training ones: the default main job hears each about 5 times, 12,000 about 10 (speech
  // alone, 3,600 steps: held-out WER 0.092 against 0.138; docs/experiments.md).
  int64_t train = 24000, dev = 400;
  uint64_t seed = 1;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));  // espeak-ng processes
  bool strict = false;  // stop at the first bad recording instead of reporting and skipping it
  // Record each training utterance's phonemes (a second espeak-ng run per utterance: ≈ 1.6x the build time) for
  // the speech task's option phoneme_ctc_weight.
  bool phonemes = false;
  std::string real_dir = "/usr/share/asterisk/sounds/en";
  std::string transcripts = "/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz";
};

// Returns the directory it wrote. Progress on stdout.
absl::StatusOr<std::string> BuildSpeechCache(const SpeechBuildOptions& options);

}  // namespace onemodel::data

#endif  // ONEMODEL_DATA_SPEECH_BUILDER_H_
