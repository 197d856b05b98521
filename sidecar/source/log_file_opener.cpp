#include "sidecar/source/log_file_opener.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace logferry {

std::string_view skip_reason_name(SkipReason reason) {
  switch (reason) {
    case SkipReason::none: return "none";
    case SkipReason::symlink: return "symlink";
    case SkipReason::outside_root: return "symlink_outside_root";
    case SkipReason::not_regular: return "not_regular";
    case SkipReason::open_failed: return "open_failed";
  }
  return "unknown";
}

bool descriptor_beneath(int fd, std::string_view root) {
  const std::string proc = "/proc/self/fd/" + std::to_string(fd);
  std::string real(4096, '\0');
  const ssize_t n = ::readlink(proc.c_str(), real.data(), real.size());
  if (n <= 0 || static_cast<size_t>(n) >= real.size()) return false;  // no /proc: refuse
  real.resize(static_cast<size_t>(n));
  while (root.size() > 1 && root.back() == '/') root.remove_suffix(1);
  if (real == root) return true;
  return real.size() > root.size() && real.starts_with(root) && (root == "/" || real[root.size()] == '/');
}

OpenedLogFile open_log_file(const std::string& path, LinkPolicy policy, const std::string& root) {
  OpenedLogFile out;
  // O_NONBLOCK: opening a FIFO without a writer (or some devices) would wait.
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
  bool via_link = false;
  if (policy == LinkPolicy::refuse) {
    flags |= O_NOFOLLOW;
  } else if (policy == LinkPolicy::beneath_root) {
    struct stat lst {};
    via_link = ::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode);
    if (!via_link) flags |= O_NOFOLLOW;  // a link swapped in after lstat fails with ELOOP
  }
  out.fd = UniqueFd(::open(path.c_str(), flags));
  if (!out.fd) {
    out.error = errno;
    out.skip = out.error == ELOOP ? SkipReason::symlink : SkipReason::open_failed;
    return out;
  }
  if (via_link && !descriptor_beneath(out.fd.get(), root)) {
    out.fd = UniqueFd();
    out.skip = SkipReason::outside_root;
    return out;
  }
  if (::fstat(out.fd.get(), &out.st) != 0 || !S_ISREG(out.st.st_mode)) {
    out.fd = UniqueFd();
    out.skip = SkipReason::not_regular;
    return out;
  }
  return out;
}

}  // namespace logferry
