// A C interface over Debian's libsentencepiece, built as its own shared object (libonemodel_sentencepiece.so)
// and loaded by sentencepiece_shim.cc with dlopen(RTLD_LOCAL | RTLD_DEEPBIND). Why: libsentencepiece 0.1.97
// carries its own copy of protobuf-lite and exports it; in a process that also loads the system libprotobuf
// (our configs and checkpoints), the two copies interpose on each other and crash at start-up. Loaded locally
// and deep-bound, SentencePiece keeps to its copy and the rest of the process never sees it.
// (Its headers also define absl::string_view themselves, so this file includes no Abseil.)
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace {
char* Copy(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}
}  // namespace

extern "C" {

// Returns nullptr on success, else a malloc'ed error message.
char* om_spm_train(const char* const* keys, const char* const* values, int n) {
  std::unordered_map<std::string, std::string> flags;
  for (int i = 0; i < n; ++i) flags[keys[i]] = values[i];
  const sentencepiece::util::Status status = sentencepiece::SentencePieceTrainer::Train(flags);
  return status.ok() ? nullptr : Copy(status.ToString());
}

// Returns a processor, or nullptr with *error set (malloc'ed).
void* om_spm_load(const char* path, char** error) {
  auto* processor = new sentencepiece::SentencePieceProcessor();
  const sentencepiece::util::Status status = processor->Load(path);
  if (!status.ok()) {
    *error = Copy(status.ToString());
    delete processor;
    return nullptr;
  }
  return processor;
}

void om_spm_free(void* processor) { delete static_cast<sentencepiece::SentencePieceProcessor*>(processor); }

int om_spm_vocab_size(const void* processor) {
  return static_cast<const sentencepiece::SentencePieceProcessor*>(processor)->GetPieceSize();
}

// Writes up to `capacity` ids; returns how many the text has (call again with more room if larger).
int om_spm_encode(const void* processor, const char* text, int* ids, int capacity) {
  std::vector<int> out;
  static_cast<const sentencepiece::SentencePieceProcessor*>(processor)->Encode(text, &out).IgnoreError();
  for (int i = 0; i < static_cast<int>(out.size()) && i < capacity; ++i) ids[i] = out[i];
  return static_cast<int>(out.size());
}

char* om_spm_decode(const void* processor, const int* ids, int n) {
  std::string text;
  static_cast<const sentencepiece::SentencePieceProcessor*>(processor)
      ->Decode(std::vector<int>(ids, ids + n), &text)
      .IgnoreError();
  return Copy(text);
}

char* om_spm_piece(const void* processor, int id) {
  return Copy(static_cast<const sentencepiece::SentencePieceProcessor*>(processor)->IdToPiece(id));
}

void om_spm_free_string(char* s) { std::free(s); }

}  // extern "C"
