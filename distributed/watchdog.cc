#include "distributed/watchdog.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace onemodel::distributed {
namespace {

constexpr auto kPoll = std::chrono::milliseconds(200);
constexpr double kHeartbeatSeconds = 1.0;
// A heartbeat older than this is a process that no longer runs (its watchdog thread writes every second).
constexpr double kStaleSeconds = 4.0;

double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string HostName() {
  char name[256] = {0};
  ::gethostname(name, sizeof(name) - 1);
  return name;
}

struct Heartbeat {
  int64_t completed = 0;
  double time = 0;
  long pid = 0;
  std::string host, op;
};

bool ReadHeartbeat(const std::string& path, Heartbeat* h) {
  std::ifstream in(path);
  std::string key;
  bool any = false;
  while (in >> key) {
    any = true;
    if (key == "completed") in >> h->completed;
    else if (key == "time") in >> h->time;
    else if (key == "pid") in >> h->pid;
    else if (key == "host") in >> h->host;
    else if (key == "op") in >> h->op;
  }
  return any && h->pid > 0;
}

}  // namespace

Watchdog::Watchdog(int rank, int size, std::string heartbeat_dir, double timeout_seconds)
    : rank_(rank), size_(size), dir_(std::move(heartbeat_dir)), timeout_(timeout_seconds), host_(HostName()) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  WriteHeartbeat();
  thread_ = std::thread([this] { Run(); });
}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Watchdog::Enter(const char* op, const std::string& group) {
  std::lock_guard<std::mutex> lock(mu_);
  op_ = op;
  group_ = group;
  since_ = std::chrono::steady_clock::now();
}

void Watchdog::Leave() {
  std::lock_guard<std::mutex> lock(mu_);
  op_ = nullptr;
  ++completed_;
}

void Watchdog::WriteHeartbeat() {
  std::string text;
  {
    std::lock_guard<std::mutex> lock(mu_);
    text = absl::StrFormat("completed %d\ntime %.3f\npid %d\nhost %s\nop %s\n", completed_, WallSeconds(), ::getpid(),
                           host_, op_ == nullptr ? "none" : absl::StrCat(op_, "@", group_));
  }
  // Through a rename, so a reader never sees half a record.
  const std::string path = absl::StrCat(dir_, "/rank-", rank_), tmp = path + ".tmp";
  std::ofstream(tmp, std::ios::trunc) << text;
  std::rename(tmp.c_str(), path.c_str());
}

std::string Watchdog::Diagnose() const {
  int64_t mine;
  {
    std::lock_guard<std::mutex> lock(mu_);
    mine = completed_;
  }
  std::vector<std::string> silent, behind, unknown;
  const double now = WallSeconds();
  for (int r = 0; r < size_; ++r) {
    if (r == rank_) continue;
    Heartbeat h;
    if (!ReadHeartbeat(absl::StrCat(dir_, "/rank-", r), &h)) {
      unknown.push_back(absl::StrCat("rank ", r, " (no heartbeat in ", dir_, ")"));
      continue;
    }
    const std::string who = absl::StrCat("rank ", r, " (pid ", h.pid, " on ", h.host, ")");
    const bool gone = h.host == host_ && ::kill(static_cast<pid_t>(h.pid), 0) != 0 && errno == ESRCH;
    if (gone) {
      silent.push_back(absl::StrCat(who, ": the process no longer exists"));
    } else if (now - h.time > kStaleSeconds) {
      silent.push_back(absl::StrFormat("%s: no heartbeat for %.1f s (dead or stopped)", who, now - h.time));
    } else if (h.completed < mine) {
      behind.push_back(absl::StrCat(who, ": alive but behind (", h.completed, " collectives done, this rank ", mine,
                                    "; it is in ", h.op, ")"));
    }
  }
  if (!silent.empty()) return absl::StrCat(absl::StrJoin(silent, "; "), " stopped answering");
  if (!behind.empty()) return absl::StrJoin(behind, "; ");
  if (!unknown.empty()) return absl::StrCat("cannot tell which rank: ", absl::StrJoin(unknown, "; "));
  return "every other rank looks alive and in step (a collective mismatch?)";
}

std::string Watchdog::Message(double waited) const {
  std::string op, group;
  {
    std::lock_guard<std::mutex> lock(mu_);
    op = op_ == nullptr ? "?" : op_;
    group = group_;
  }
  return absl::StrFormat(
      "onemodel: rank %d (pid %d on %s): %s on group '%s' has waited %.1f s (distributed.timeout_seconds = %g): %s. "
      "Ending this rank; the last checkpoint stays loadable.",
      rank_, ::getpid(), host_, op, group, waited, timeout_, Diagnose());
}

void Watchdog::Run() {
  auto next_heartbeat = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    wake_.wait_for(lock, kPoll);
    if (stop_) break;
    const auto now = std::chrono::steady_clock::now();
    const double waited = op_ == nullptr ? 0 : std::chrono::duration<double>(now - since_).count();
    if (waited > timeout_) {
      lock.unlock();
      const std::string message = Message(waited);
      std::fflush(stdout);
      std::fprintf(stderr, "%s\n", message.c_str());
      std::fflush(stderr);
      // The main thread is blocked inside the collective: end the process from here (no destructors).
      ::_exit(kWatchdogExit);
    }
    if (now >= next_heartbeat) {
      lock.unlock();
      WriteHeartbeat();
      lock.lock();
      next_heartbeat = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                 std::chrono::duration<double>(kHeartbeatSeconds));
    }
  }
}

}  // namespace onemodel::distributed
