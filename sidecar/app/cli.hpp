#pragma once
// The sidecar's command line: --help, --version, --check-config, or run.
namespace logferry {

// Returns the process exit code: 0 ok, 2 configuration error, 1 runtime failure.
int run_cli(int argc, char** argv);

}  // namespace logferry
