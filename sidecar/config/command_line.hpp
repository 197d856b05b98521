#pragma once
// The command line both programs (the sidecar and the aggregator) share:
// configured through the environment, they take at most one option.
#include <span>
#include <string_view>

#include "sidecar/config/env_table.hpp"

namespace logferry {

enum class CliCommand {
  run,           // no option: run until SIGTERM or SIGINT
  help,          // --help or -h
  version,       // --version
  check_config,  // --check-config: validate, print the effective configuration
  unknown,       // anything else: a usage error (exit 2)
};

// What the option `arg` ("" when none) asks for.
CliCommand cli_command(std::string_view arg);

// Prints each error as "<program>: configuration error: <message>" on stderr.
void print_config_errors(std::string_view program, std::span<const EnvError> errors);

}  // namespace logferry
