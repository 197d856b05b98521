#pragma once
// What the source stages (files, the named pipe, stdin) are told: plain data,
// filled from the environment by the config layer (config.cpp), or by a test.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace logferry {

enum class ReadFrom { head, tail };
enum class PipeOverflow { block, drop_oldest, drop_newest };
// sidecar: next to one app in its Pod; node: a DaemonSet agent reading the
// kubelet's container logs, labelled per file from the file name.
enum class Mode { sidecar, node };

// The files a node agent reads when LOGFERRY_FILES is unset.
inline constexpr std::string_view kNodeLogGlob = "/var/log/containers/*.log";

// How every source cuts bytes into lines and shares the event loop.
struct ReadOptions {
  uint64_t max_line_bytes = 256 * 1024;                // LOGFERRY_MAX_LINE_BYTES: longer lines are cut
  std::chrono::milliseconds partial_flush{5000};       // LOGFERRY_PARTIAL_FLUSH: a last line without newline
  uint64_t read_budget_bytes = 1024 * 1024;            // LOGFERRY_READ_BUDGET_BYTES: per source per turn

  bool operator==(const ReadOptions&) const = default;
};

// The file source (FileSource).
struct FileSourceOptions {
  Mode mode = Mode::sidecar;                     // LOGFERRY_MODE
  std::vector<std::string> globs;                // LOGFERRY_FILES
  std::vector<std::string> exclude;              // LOGFERRY_EXCLUDE
  ReadFrom read_from = ReadFrom::head;           // LOGFERRY_READ_FROM
  std::chrono::milliseconds rotate_wait{10000};  // LOGFERRY_ROTATE_WAIT
  std::chrono::milliseconds poll_interval{1000}; // LOGFERRY_POLL_INTERVAL
  bool inotify = true;                           // LOGFERRY_INOTIFY
  uint64_t max_open_files = 512;                 // LOGFERRY_MAX_OPEN_FILES
  std::chrono::milliseconds drain_quiet{1000};   // LOGFERRY_DRAIN_QUIET: a file is drained once quiet this long
  // Sidecar mode: follow symlinks among the files (off: the app could point
  // one at the sidecar's own secrets). Node mode always follows links whose
  // target is beneath pods_root, and only those.
  bool follow_symlinks = false;                  // LOGFERRY_FOLLOW_SYMLINKS
  std::string pods_root = "/var/log/pods";       // LOGFERRY_PODS_ROOT

  bool operator==(const FileSourceOptions&) const = default;
};

// The named-pipe source (PipeSource) and its spill directory.
struct PipeSourceOptions {
  std::string path;                                   // LOGFERRY_PIPE; "" = none
  uint32_t file_mode = 0622;                          // LOGFERRY_PIPE_MODE
  std::string spill_dir;                              // LOGFERRY_SPILL_DIR
  uint64_t spill_max_bytes = 64ull * 1024 * 1024;     // LOGFERRY_SPILL_MAX_BYTES; 0 = no spilling
  PipeOverflow overflow = PipeOverflow::block;        // LOGFERRY_PIPE_OVERFLOW

  bool operator==(const PipeSourceOptions&) const = default;
};

}  // namespace logferry
