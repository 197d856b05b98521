#pragma once
// The aggregator's command line: --help, --version, --check-config, or run
// until SIGTERM/SIGINT.
namespace logferry::aggregator {

// Returns the process exit code: 0 ok, 2 configuration error, 1 runtime failure.
int run_aggregator_cli(int argc, char** argv);

}  // namespace logferry::aggregator
