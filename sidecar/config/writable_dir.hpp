#pragma once
// The start-up check of a directory a program keeps its state in (the
// sidecar's checkpoints and pipe spill, the aggregator's data): shared so both
// programs accept and refuse the same directories with the same words.
#include <string>

namespace logferry {

// Creates `dir` (and its parents) when missing, then checks that it is a
// directory this process can list, and create and write files in (read, write
// and search permission: both programs list their directory at start-up).
// Returns "" when usable, otherwise why not.
std::string check_writable_dir(const std::string& dir);

}  // namespace logferry
