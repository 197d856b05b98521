#pragma once
// Opens a file the file source was asked to read, and nothing else. The app
// container writes into the directory logferry reads: a symbolic link it
// plants (to the sidecar's token, its TLS key, /proc/self/environ) must not be
// followed, and a FIFO or device swapped in must neither block logferry nor
// be read. Every open is O_NONBLOCK | O_CLOEXEC, and only regular files
// (checked with fstat on the descriptor) are kept.
#include <sys/stat.h>

#include <string>
#include <string_view>

#include "sidecar/source/file_watcher.hpp"

namespace logferry {

// How symbolic links among the files are treated.
enum class LinkPolicy {
  refuse,        // sidecar mode (default): O_NOFOLLOW, a link is skipped
  follow,        // LOGFERRY_FOLLOW_SYMLINKS=true: a link is read wherever it leads
  beneath_root,  // node mode: a link is read only when the opened file is beneath the root
};

// Why a matching path is not read.
enum class SkipReason { none, symlink, outside_root, not_regular, open_failed };

// The label value of a reason in logferry_skipped_files_total.
std::string_view skip_reason_name(SkipReason reason);

struct OpenedLogFile {
  UniqueFd fd;              // open when skip == none
  struct stat st {};        // fstat of fd
  SkipReason skip = SkipReason::none;
  int error = 0;            // errno, for open_failed
};

// Opens `path` for reading under `policy`. `root` is the canonical directory
// links must resolve beneath (beneath_root only). Checks the opened
// descriptor: its real path (/proc/self/fd) for beneath_root, its type always.
OpenedLogFile open_log_file(const std::string& path, LinkPolicy policy, const std::string& root);

// True when the real path of the open descriptor `fd` is `root` or beneath it.
bool descriptor_beneath(int fd, std::string_view root);

}  // namespace logferry
