#include "sidecar/core/replace_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "sidecar/core/unique_fd.hpp"

namespace logferry {
namespace {

boost::system::error_code last_error() { return {errno, boost::system::system_category()}; }

// Writes all of `data`; a write that makes no progress is reported as ENOSPC.
boost::system::error_code write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return last_error();
    if (n == 0) return {ENOSPC, boost::system::system_category()};
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

// Creates the temporary file (exclusively: never through a link or a file
// someone else made); a leftover of an earlier attempt is removed first.
UniqueFd create_temp(const std::string& temp_path, mode_t mode) {
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  UniqueFd fd(::open(temp_path.c_str(), flags, mode));
  if (!fd && errno == EEXIST && ::unlink(temp_path.c_str()) == 0) fd = UniqueFd(::open(temp_path.c_str(), flags, mode));
  return fd;
}

// Everything up to the rename; the caller removes the temporary file when it fails.
boost::system::error_code write_temp(const std::string& temp_path, std::string_view data,
                                     const ReplaceFileOptions& options) {
  UniqueFd fd = create_temp(temp_path, options.mode);
  if (!fd) return last_error();
  if (options.umask == FileModeUmask::ignored && ::fchmod(fd.get(), options.mode) != 0) return last_error();
  if (auto ec = write_all(fd.get(), data)) return ec;
  if (options.sync != FileSync::none && ::fsync(fd.get()) != 0) return last_error();
  fd.reset();  // closed before the rename makes it the file
  return {};
}

}  // namespace

boost::system::error_code replace_file(const std::string& path, const std::string& temp_path, std::string_view data,
                                       const ReplaceFileOptions& options) {
  if (auto ec = write_temp(temp_path, data, options)) {
    ::unlink(temp_path.c_str());
    return ec;
  }
  if (::rename(temp_path.c_str(), path.c_str()) != 0) return last_error();
  if (options.sync == FileSync::file_and_directory) {
    const std::string dir = std::filesystem::path(path).parent_path().string();
    const UniqueFd dir_fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd) ::fsync(dir_fd.get());
  }
  return {};
}

}  // namespace logferry
