#pragma once
// The sidecar's command line: --help, --version, --check-config, or run.
// Configuration errors go to stderr as "logferry: configuration error: <message>",
// one per line, with exit code 2.
#include <string>

namespace logferry {

// The text of --help: usage, then every environment variable with its meaning and default.
std::string cli_help_text();

// Returns the process exit code: 0 ok, 2 configuration or usage error, 1 runtime failure.
int run_cli(int argc, char** argv);

}  // namespace logferry
