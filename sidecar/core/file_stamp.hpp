#pragma once
// One version of a file, for "read it again when it changed" checks (a token
// or credentials Secret, a Downward API file): device, inode, size and
// modification time. The kubelet replaces such files through a symlink swap
// (a new inode) and an in-place rewrite changes size or mtime, so a changed
// file has a different stamp. The default stamp matches no real file.
#include <sys/stat.h>

#include <cstdint>

namespace logferry {

struct FileStamp {
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;

  static FileStamp of(const struct stat& st) {
    return FileStamp{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                     static_cast<uint64_t>(st.st_size),
                     static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
  }
};

}  // namespace logferry
