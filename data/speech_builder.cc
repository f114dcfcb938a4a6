#include "data/speech_builder.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/rng.h"
#include "core/safetensors.h"
#include "data/log_mel.h"
#include "data/packages.h"
#include "data/speech_text.h"
#include "data/wav.h"
#include "nlohmann/json.hpp"

namespace onemodel::data {
namespace {

namespace fs = std::filesystem;

constexpr int kRate = 16000;
const std::vector<std::string> kTrainAccents = {"en-gb", "en-us", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp",
                                                "en-gb-x-gbcwmd", "en-us-nyc"};
const std::vector<std::string> kDevAccents = {"en-029"};
const std::vector<std::string> kTrainVariants = {
    "m1", "m2", "m3", "m4", "m5", "m7", "m8", "f1", "f2", "f3", "f5", "klatt", "klatt2", "klatt3", "klatt4",
    "croak", "grandpa", "grandma", "adam", "Alex", "Andy", "Annie", "aunty", "belinda", "benjamin", "boris",
    "caleb", "david", "ed", "edward", "Gene", "gustave", "Henrique", "Hugo", "iven", "Jacky", "john", "Marco",
    "Mario", "max", "Michael", "Mike", "norbert", "paul", "pedro", "quincy", "rob", "robert", "steph", "travis", "zac"};
const std::vector<std::string> kDevVariants = {"f4", "m6", "Lee", "victor", "linda"};

struct Utterance {
  std::string source, group, transcript;
  std::string phonemes;  // the transcript's lexicon phonemes, PhonemeSymbols joined by spaces (or none)
  Tensor features;  // [frames, mels]
};

Tensor Features(const Audio& audio) {
  LogMelOptions o;
  o.mels = kSpeechMels;
  return LogMel(Resample(audio.samples, audio.sample_rate, kRate), o);
}

// Runs espeak-ng with `args` (spawned without a shell: the text may hold any character).
absl::Status RunEspeak(const std::vector<std::string>& args, const std::string& voice, const std::string& text) {
  std::vector<char*> argv = {const_cast<char*>("espeak-ng")};
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int status = -1;
  const int spawned = posix_spawnp(&pid, "espeak-ng", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned == 0) waitpid(pid, &status, 0);
  if (spawned != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("espeak-ng -v ", voice, " failed on '", text,
                                            "' (Debian package espeak-ng)"));
  }
  return absl::OkStatus();
}

// The phonemes a pronouncing dictionary gives `text`: espeak-ng's General American ones (its IPA, through `file`),
// whichever voice says it, so that a phoneme stands for one sound category in every accent, as in an ASR lexicon.
absl::StatusOr<std::string> LexiconPhonemes(const std::string& text, const std::string& file) {
  absl::Status s = RunEspeak({"-v", "en-us", "-q", "--ipa", absl::StrCat("--phonout=", file), "--", text}, "en-us", text);
  if (!s.ok()) return s;
  std::ifstream in(file, std::ios::binary);
  const std::vector<std::string> phonemes =
      PhonemeSymbols(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  if (phonemes.empty()) return absl::InternalError(absl::StrCat("espeak-ng wrote no phonemes for '", text, "' to ", file));
  return absl::StrJoin(phonemes, " ");
}

// One synthetic utterance: espeak-ng into a temporary WAV (its --stdout header has no length), read back, with the
// text's lexicon phonemes when asked. `telephone`: the audio goes through 8 kHz first, as the real recordings did
// (nothing above 4 kHz).
absl::StatusOr<Utterance> Synthesize(const std::string& text, const std::string& voice, int speed, int pitch,
                                     bool telephone, bool phonemes, const std::string& wav) {
  absl::Status s = RunEspeak({"-v", voice, "-s", absl::StrCat(speed), "-p", absl::StrCat(pitch), "-w", wav, "--", text},
                             voice, text);
  if (!s.ok()) return s;
  absl::StatusOr<Audio> audio = ReadWav(wav);
  if (!audio.ok()) return audio.status();
  if (telephone) *audio = Audio{Resample(audio->samples, audio->sample_rate, 8000), 8000};
  absl::StatusOr<std::string> lexicon = phonemes ? LexiconPhonemes(text, absl::StrCat(wav, ".ipa")) : "";
  if (!lexicon.ok()) return lexicon.status();
  return Utterance{absl::StrCat(voice, " -s ", speed, " -p ", pitch, telephone ? " 8kHz" : ""), "synthetic", text,
                   *std::move(lexicon), Features(*audio)};
}

// The synthetic split: utterance i has text PoolUtterance(seed_text, i) and a voice from (accents x variants).
absl::StatusOr<std::vector<Utterance>> SyntheticSplit(const std::string& name, int64_t n, uint64_t seed,
                                                      const std::vector<std::string>& accents,
                                                      const std::vector<std::string>& variants,
                                                      const std::vector<std::string>& vocabulary, bool phonemes,
                                                      int threads, const std::string& tmp_dir) {
  std::vector<Utterance> out(n);
  std::atomic<int64_t> next{0}, done{0};
  std::mutex mu;
  absl::Status failure;
  auto work = [&](int worker) {
    const std::string wav = absl::StrCat(tmp_dir, "/", name, "-", worker, ".wav");
    for (int64_t i = next++; i < n; i = next++) {
      const RngKey key{seed, static_cast<uint32_t>(i), 1, 78};
      auto pick = [&](uint64_t j, size_t size) { return std::min(size - 1, static_cast<size_t>(UniformAt(key, j) * size)); };
      const std::string voice = absl::StrCat(accents[pick(0, accents.size())], "+", variants[pick(1, variants.size())]);
      const int speed = 130 + static_cast<int>(UniformAt(key, 2) * 70), pitch = 25 + static_cast<int>(UniformAt(key, 3) * 50);
      const bool telephone = UniformAt(key, 4) < 0.5f;  // half the utterances band-limited like the real set
      absl::StatusOr<Utterance> u = Synthesize(PoolUtterance(seed, i, vocabulary), voice, speed, pitch, telephone, phonemes, wav);
      if (!u.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        failure = u.status();
        next = n;
        return;
      }
      out[i] = *std::move(u);
      if (const int64_t d = ++done; d % 2000 == 0 || d == n) {
        std::printf("speech: %s %lld/%lld utterances\n", name.c_str(), static_cast<long long>(d), static_cast<long long>(n));
        std::fflush(stdout);
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, threads); ++t) pool.emplace_back(work, t);
  for (std::thread& t : pool) t.join();
  if (!failure.ok()) return failure;
  return out;
}

// "name: Text." lines of the transcript file (gzip or plain), '[...]' (tones, silence) left out.
absl::StatusOr<std::map<std::string, std::string>> ReadTranscripts(const std::string& path) {
  gzFile in = gzopen(path.c_str(), "rb");
  if (in == nullptr) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open (Debian package asterisk-core-sounds-en-wav)"));
  }
  std::map<std::string, std::string> out;
  char line[8192];
  while (gzgets(in, line, sizeof(line)) != nullptr) {
    const std::string text(line);
    const size_t colon = text.find(": ");
    if (text.empty() || text[0] == ';' || colon == std::string::npos) continue;
    const std::string said = text.substr(colon + 2);
    // Tones and silence are described, not said.
    if (said.find('[') != std::string::npos || text.rfind("silence/", 0) == 0) continue;
    const std::string normalized = NormalizeTranscript(said);
    if (!normalized.empty()) out[text.substr(0, colon)] = normalized;
  }
  gzclose(in);
  if (out.empty()) return absl::DataLossError(absl::StrCat(path, ": no transcripts"));
  return out;
}

absl::Status WriteSplit(const std::string& dir, const std::string& name, const std::vector<Utterance>& split) {
  int64_t total = 0;
  for (const Utterance& u : split) total += u.features.dim(0);
  Tensor features = Tensor::Empty({total, kSpeechMels});
  std::vector<int64_t> frames;
  std::string tsv;
  int64_t at = 0;
  for (const Utterance& u : split) {
    features.Narrow(at, at + u.features.dim(0)).CopyFrom(u.features);
    at += u.features.dim(0);
    frames.push_back(u.features.dim(0));
    absl::StrAppend(&tsv, u.source, "\t", u.group, "\t", u.transcript, "\t", u.phonemes, "\n");
  }
  absl::Status s = WriteSafetensors(absl::StrCat(dir, "/", name, ".safetensors"),
                                    {{"features", features}, {"frames", Tensor::FromIndices(frames, {static_cast<int64_t>(frames.size())})}});
  if (!s.ok()) return s;
  std::ofstream out(absl::StrCat(dir, "/", name, ".tsv"), std::ios::binary);
  out << tsv;
  return out.flush() ? absl::OkStatus() : absl::InternalError(absl::StrCat(dir, "/", name, ".tsv: write failed"));
}

}  // namespace

absl::StatusOr<std::string> BuildSpeechCache(const SpeechBuildOptions& options) {
  absl::StatusOr<std::map<std::string, std::string>> transcripts = ReadTranscripts(options.transcripts);
  if (!transcripts.ok()) return transcripts.status();
  const std::string final_dir = absl::StrCat(options.out_dir, "/speech");
  const std::string tmp_dir = absl::StrCat(final_dir, ".tmp.", ::getpid());
  std::error_code ec;
  fs::remove_all(tmp_dir, ec);
  fs::create_directories(tmp_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat(tmp_dir, ": cannot create: ", ec.message()));
  // A build that fails leaves nothing behind (the previous cache, if any, stays).
  struct RemoveUnlessRenamed {
    std::string dir;
    ~RemoveUnlessRenamed() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } cleanup{tmp_dir};
  nlohmann::json manifest = {{"task", "speech"}, {"mels", kSpeechMels}, {"sample_rate", kRate}};

  // The real recordings: every transcribed file that reads; bad ones reported and skipped (or fatal, strict).
  std::vector<Utterance> real;
  std::set<std::string> vocabulary_set;
  for (const auto& [name, transcript] : *transcripts) {
    const std::string path = absl::StrCat(options.real_dir, "/", name, ".wav");
    if (!fs::exists(path)) continue;
    absl::StatusOr<Audio> audio = ReadWav(path);
    if (!audio.ok()) {
      if (options.strict) return audio.status();
      std::printf("speech: skipped %s\n", std::string(audio.status().message()).c_str());
      manifest["skipped"].push_back(std::string(audio.status().message()));
      continue;
    }
    const size_t slash = name.find('/');
    const std::string group = slash == std::string::npos ? "prompts" : name.substr(0, slash);
    real.push_back({path, group, transcript, "", Features(*audio)});
    for (absl::string_view w : absl::StrSplit(transcript, ' ')) vocabulary_set.insert(std::string(w));
  }
  if (real.empty()) return absl::NotFoundError(absl::StrCat(options.real_dir, ": no transcribed recordings"));
  std::printf("speech: %zu real recordings, %zu words in their vocabulary\n", real.size(), vocabulary_set.size());
  // The pool's words: the real set's vocabulary (its words, never its sentences).
  const std::vector<std::string> vocabulary(vocabulary_set.begin(), vocabulary_set.end());
  absl::StatusOr<std::vector<Utterance>> train =
      SyntheticSplit("train", options.train, options.seed, kTrainAccents, kTrainVariants, vocabulary,
                     options.phonemes, options.threads, tmp_dir);
  if (!train.ok()) return train.status();
  absl::StatusOr<std::vector<Utterance>> dev =
      SyntheticSplit("dev", options.dev, options.seed + 1000, kDevAccents, kDevVariants, vocabulary,
                     /*phonemes=*/false, options.threads, tmp_dir);
  if (!dev.ok()) return dev.status();
  for (const auto& [name, split] : {std::make_pair("train", &*train), std::make_pair("dev", &*dev), std::make_pair("real", &real)}) {
    absl::Status s = WriteSplit(tmp_dir, name, *split);
    if (!s.ok()) return s;
    manifest["splits"][name] = split->size();
  }
  manifest["phonemes"] = options.phonemes ? "train: espeak-ng -v en-us --ipa" : "none";
  manifest["voices"] = {{"train", {{"accents", kTrainAccents}, {"variants", kTrainVariants}}},
                        {"dev", {{"accents", kDevAccents}, {"variants", kDevVariants}}}};
  manifest["sources"] = {{{"package", "espeak-ng"}, {"package_version", PackageVersion("espeak-ng")}},
                         {{"package", "asterisk-core-sounds-en-wav"},
                          {"package_version", PackageVersion("asterisk-core-sounds-en-wav")},
                          {"path", options.real_dir}}};
  for (const auto& entry : fs::directory_iterator(tmp_dir, ec)) {
    if (entry.path().extension() == ".wav" || entry.path().extension() == ".ipa") fs::remove(entry.path(), ec);
  }
  std::ofstream(absl::StrCat(tmp_dir, "/manifest.json")) << manifest.dump(2) << "\n";
  fs::remove_all(final_dir, ec);
  fs::rename(tmp_dir, final_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat(final_dir, ": cannot move into place: ", ec.message()));
  return final_dir;
}

}  // namespace onemodel::data
