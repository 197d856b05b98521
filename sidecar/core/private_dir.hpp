#pragma once
// Directories logferry creates for its own state (checkpoints, pipe spill):
// mode 0700 whatever the umask, so another container sharing the volume
// cannot read them.
#include <string>
#include <system_error>

namespace logferry {

inline constexpr unsigned kPrivateDirMode = 0700;
inline constexpr unsigned kPrivateFileMode = 0600;

// Creates `dir` and its missing parents, each created one with mode 0700 (set on
// its descriptor, so the umask does not matter); existing directories keep
// their mode. Returns the error of the first step that failed.
std::error_code create_private_directories(const std::string& dir);

}  // namespace logferry
