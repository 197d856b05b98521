#include "sidecar/core/private_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "sidecar/core/unique_fd.hpp"

namespace logferry {

std::error_code create_private_directories(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path target = fs::path(dir).lexically_normal();
  fs::path current;
  for (const auto& part : target) {
    current /= part;
    if (part.empty() || part == "/" || part == ".") continue;
    if (::mkdir(current.c_str(), kPrivateDirMode) != 0) {
      if (errno == EEXIST) continue;
      return {errno, std::generic_category()};
    }
    // mkdir applied the umask; the mode is meant as written.
    const UniqueFd fd(::open(current.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return {errno, std::generic_category()};
    if (::fchmod(fd.get(), kPrivateDirMode) != 0) return {errno, std::generic_category()};
  }
  std::error_code ec;
  if (!fs::is_directory(target, ec)) return ec ? ec : std::make_error_code(std::errc::not_a_directory);
  return {};
}

}  // namespace logferry
