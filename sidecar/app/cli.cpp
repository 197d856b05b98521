#include "sidecar/app/cli.hpp"

#include <cstdio>
#include <string_view>

#include <fmt/format.h>

#include "sidecar/config/config.hpp"

namespace logferry {

int run_cli(int argc, char** argv) {
  const std::string_view arg = argc > 1 ? std::string_view(argv[1]) : std::string_view();
  if (arg == "--help" || arg == "-h") {
    fmt::print("logferry {}: forwards log files to an aggregator.\n\nEnvironment variables:\n{}",
               LOGFERRY_VERSION, render_help<Config>(config_table()));
    return 0;
  }
  const auto env = process_environment();
  auto loaded = load_config(env);
  if (!loaded.errors.empty()) {
    for (const auto& e : loaded.errors) fmt::print(stderr, "logferry: configuration error: {}\n", e.message);
    return 2;
  }
  return 0;
}

}  // namespace logferry
