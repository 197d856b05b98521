#include "sidecar/config/writable_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "sidecar/core/private_dir.hpp"

namespace logferry {

std::string check_writable_dir(const std::string& dir) {
  // Missing directories are created private (0700): they hold logferry's own state.
  if (const auto ec = create_private_directories(dir)) {
    return fmt::format("cannot create the directory: {}", ec.message());
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return "not a directory";
  if (::access(dir.c_str(), R_OK | W_OK | X_OK) != 0) {
    return fmt::format("the directory must be readable and writable: {}", std::strerror(errno));
  }
  return {};
}

}  // namespace logferry
