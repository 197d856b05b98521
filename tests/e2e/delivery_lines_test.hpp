#pragma once
// Helpers shared by the delivery end-to-end tests: an app appending distinct
// lines (support/log_lines.hpp) from a background thread while the sidecar
// runs, the exactly-once check, and /proc readings of a child.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "support/log_lines.hpp"
#include "support/logferry_processes.hpp"
#include "support/store_reader.hpp"

namespace logferry::test {

// An app writing to log files from its own thread: `per_tick` lines to each
// file every `tick` until stop() or `total` lines per file.
class BackgroundWriter {
 public:
  BackgroundWriter(std::vector<std::filesystem::path> files, size_t per_tick, std::chrono::milliseconds tick,
                   size_t total_per_file = SIZE_MAX)
      : files_(std::move(files)) {
    thread_ = std::thread([this, per_tick, tick, total_per_file] {
      while (!stop_) {
        bool more = false;
        for (size_t f = 0; f < files_.size(); ++f) {
          std::lock_guard lock(mutex_);
          auto& lines = written_[files_[f].string()];
          const size_t n = std::min(per_tick, total_per_file - lines.size());
          if (n > 0) append_lines(files_[f], lines, n, fmt::format("f{}", f));
          more = more || lines.size() < total_per_file;
        }
        if (!more) break;
        std::this_thread::sleep_for(tick);
      }
      finished_ = true;
    });
  }
  ~BackgroundWriter() { stop(); }
  // Stops writing (returns once the thread ended).
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  bool finished() const { return finished_; }
  size_t lines() {
    std::lock_guard lock(mutex_);
    size_t n = 0;
    for (const auto& [f, l] : written_) n += l.size();
    return n;
  }
  // Valid after stop().
  const Written& written() const { return written_; }

 private:
  std::vector<std::filesystem::path> files_;
  std::mutex mutex_;
  Written written_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

inline size_t total_lines(const Written& w) {
  size_t n = 0;
  for (const auto& [f, l] : w) n += l.size();
  return n;
}

// Every written line is in the store exactly once, in order per file.
inline void require_exactly_once(const std::filesystem::path& store, const Written& written) {
  const auto check = check_delivery(read_store(store), written);
  INFO("first missing: " << check.first_missing);
  CHECK(check.expected == total_lines(written));
  CHECK(check.stored == check.expected);
  CHECK(check.missing == 0);
  CHECK(check.duplicates == 0);
  CHECK(check.unexpected == 0);
  CHECK(check.out_of_order == 0);
}

// A field of /proc/<pid>/status in KiB (VmHWM, VmRSS); 0 when unreadable.
inline uint64_t proc_status_kib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1));
  }
  return 0;
}

// The usual sidecar environment for these tests.
inline ProcessEnv sidecar_env(const std::filesystem::path& tmp, const std::string& output) {
  return {{"LOGFERRY_FILES", (tmp / "logs" / "*.log").string()},
          {"LOGFERRY_OUTPUT", output},
          {"LOGFERRY_CHECKPOINT_DIR", (tmp / "state").string()},
          {"LOGFERRY_BACKOFF_INITIAL", "50ms"},
          {"LOGFERRY_BACKOFF_MAX", "500ms"},
          {"LOGFERRY_CONNECT_TIMEOUT", "2s"},
          {"LOGFERRY_POLL_INTERVAL", "200ms"},
          {"POD_NAME", "web-0"},
          {"POD_NAMESPACE", "shop"}};
}

}  // namespace logferry::test
