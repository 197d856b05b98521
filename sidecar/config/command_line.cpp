#include "sidecar/config/command_line.hpp"

#include <cstdio>

#include <fmt/format.h>

namespace logferry {

CliCommand cli_command(std::string_view arg) {
  if (arg.empty()) return CliCommand::run;
  if (arg == "--help" || arg == "-h") return CliCommand::help;
  if (arg == "--version") return CliCommand::version;
  if (arg == "--check-config") return CliCommand::check_config;
  return CliCommand::unknown;
}

void print_config_errors(std::string_view program, std::span<const EnvError> errors) {
  for (const auto& e : errors) fmt::print(stderr, "{}: configuration error: {}\n", program, e.message);
}

}  // namespace logferry
