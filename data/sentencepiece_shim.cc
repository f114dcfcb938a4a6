#include "data/sentencepiece_shim.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "glog/logging.h"

namespace onemodel::data::spm {
namespace {

constexpr char kLibrary[] = "libonemodel_sentencepiece.so";

// The C interface of sentencepiece_c.cc, resolved once.
struct Api {
  char* (*train)(const char* const*, const char* const*, int);
  void* (*load)(const char*, char**);
  void (*free_processor)(void*);
  int (*vocab_size)(const void*);
  int (*encode)(const void*, const char*, int*, int);
  char* (*decode)(const void*, const int*, int);
  char* (*piece)(const void*, int);
  void (*free_string)(char*);
};

// Where Bazel puts the library next to a binary or test: runfiles, or bazel-bin/data beside bazel-bin/<pkg>.
std::vector<std::string> Candidates() {
  std::vector<std::string> out;
  const std::string relative = std::string("onemodel/data/") + kLibrary;
  for (const char* env : {"RUNFILES_DIR", "TEST_SRCDIR"}) {
    if (const char* dir = std::getenv(env)) out.push_back(std::string(dir) + "/" + relative);
  }
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    out.push_back(exe.string() + ".runfiles/" + relative);
    for (auto dir = exe.parent_path(); dir.has_relative_path(); dir = dir.parent_path()) {
      out.push_back((dir / "data" / kLibrary).string());
    }
  }
  return out;
}

const Api& GetApi() {
  static const Api api = [] {
    void* handle = nullptr;
    std::string tried;
    for (const std::string& path : Candidates()) {
      tried += "\n  " + path;
      if (!std::filesystem::exists(path)) continue;
      handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
      if (handle != nullptr) break;
      tried += std::string(" (") + dlerror() + ")";
    }
    CHECK(handle != nullptr) << "cannot load " << kLibrary << " (SentencePiece); tried:" << tried;
    auto get = [&](const char* name) {
      void* symbol = dlsym(handle, name);
      CHECK(symbol != nullptr) << kLibrary << ": no symbol " << name;
      return symbol;
    };
    Api a;
    a.train = reinterpret_cast<decltype(a.train)>(get("om_spm_train"));
    a.load = reinterpret_cast<decltype(a.load)>(get("om_spm_load"));
    a.free_processor = reinterpret_cast<decltype(a.free_processor)>(get("om_spm_free"));
    a.vocab_size = reinterpret_cast<decltype(a.vocab_size)>(get("om_spm_vocab_size"));
    a.encode = reinterpret_cast<decltype(a.encode)>(get("om_spm_encode"));
    a.decode = reinterpret_cast<decltype(a.decode)>(get("om_spm_decode"));
    a.piece = reinterpret_cast<decltype(a.piece)>(get("om_spm_piece"));
    a.free_string = reinterpret_cast<decltype(a.free_string)>(get("om_spm_free_string"));
    return a;
  }();
  return api;
}

std::string Take(char* s) {
  if (s == nullptr) return "";
  std::string out(s);
  GetApi().free_string(s);
  return out;
}

}  // namespace

std::string Train(const std::unordered_map<std::string, std::string>& flags) {
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : flags) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  return Take(GetApi().train(keys.data(), values.data(), static_cast<int>(keys.size())));
}

struct Processor::Impl {
  void* handle = nullptr;
  ~Impl() {
    if (handle != nullptr) GetApi().free_processor(handle);
  }
};

Processor::Processor() : impl_(std::make_unique<Impl>()) {}
Processor::~Processor() = default;

std::string Processor::Load(const std::string& path) {
  char* error = nullptr;
  impl_->handle = GetApi().load(path.c_str(), &error);
  return impl_->handle != nullptr ? "" : Take(error);
}

int Processor::VocabSize() const { return GetApi().vocab_size(impl_->handle); }

std::vector<int> Processor::Encode(const std::string& text) const {
  std::vector<int> ids(64);
  int n = GetApi().encode(impl_->handle, text.c_str(), ids.data(), static_cast<int>(ids.size()));
  if (n > static_cast<int>(ids.size())) {
    ids.resize(n);
    n = GetApi().encode(impl_->handle, text.c_str(), ids.data(), n);
  }
  ids.resize(n);
  return ids;
}

std::string Processor::Decode(const std::vector<int>& ids) const {
  return Take(GetApi().decode(impl_->handle, ids.data(), static_cast<int>(ids.size())));
}

std::string Processor::Piece(int id) const { return Take(GetApi().piece(impl_->handle, id)); }

}  // namespace onemodel::data::spm
