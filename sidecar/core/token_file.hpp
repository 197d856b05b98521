#pragma once
// A shared secret kept in a file (a mounted Kubernetes Secret). The sidecar
// and the aggregator read it the same way, so one Secret mounted on both sides
// gives the same token.
#include <optional>
#include <string>

namespace logferry {

// The file's content without trailing newlines, carriage returns and spaces;
// std::nullopt when the file cannot be read. Callers re-read it when they need
// the current token (a mounted Secret is rotated in place).
std::optional<std::string> read_token_file(const std::string& path);

}  // namespace logferry
