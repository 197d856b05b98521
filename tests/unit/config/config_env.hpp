#pragma once
// The environments the configuration tests start from, and their error texts.
#include <string>
#include <vector>

#include "sidecar/config/config.hpp"
#include "support/temp_dir.hpp"

namespace logferry::test {

// An output and a checkpoint directory under `tmp`: everything but a source.
inline Environment base_environment(const TempDir& tmp) {
  return {{"LOGFERRY_OUTPUT", "tcp://127.0.0.1:7070"}, {"LOGFERRY_CHECKPOINT_DIR", (tmp / "state").string()}};
}

// base_environment() with log files under `tmp` as the source.
inline Environment files_environment(const TempDir& tmp) {
  auto env = base_environment(tmp);
  env["LOGFERRY_FILES"] = (tmp / "*.log").string();
  return env;
}

// base_environment() with the named pipe `tmp`/app.pipe as the source.
inline Environment pipe_environment(const TempDir& tmp) {
  auto env = base_environment(tmp);
  env["LOGFERRY_PIPE"] = (tmp / "app.pipe").string();
  return env;
}

// The messages of every error load_config reported, in order.
inline std::vector<std::string> messages(const ConfigResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.message);
  return out;
}

}  // namespace logferry::test
