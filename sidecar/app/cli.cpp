#include "sidecar/app/cli.hpp"

#include <cstdio>
#include <exception>
#include <string_view>

#include <fmt/format.h>

#include "sidecar/app/app.hpp"
#include "sidecar/config/command_line.hpp"
#include "sidecar/config/config.hpp"
#include "sidecar/core/logger.hpp"
#include "sidecar/parse/registry.hpp"

namespace logferry {
namespace {

constexpr std::string_view kUsage =
    "Usage: logferry [--help | --version | --check-config]\n"
    "\n"
    "Tails log files and forwards their lines to a logferry aggregator, with\n"
    "acknowledgements and checkpoints. Configured only through the environment.\n"
    "\n"
    "Options:\n"
    "  --help          print this text and exit\n"
    "  --version       print the version and exit\n"
    "  --check-config  validate the environment, print the effective configuration\n"
    "                  (secrets redacted) and exit 0, or exit 2 listing every error\n"
    "  (none)          run until SIGTERM or SIGINT, then drain and exit\n";

}  // namespace

std::string cli_help_text() {
  return fmt::format("{}\nEnvironment variables:\n{}", kUsage, render_help<Config>(config_table()));
}

int run_cli(int argc, char** argv) {
  if (argc > 2) {
    fmt::print(stderr, "logferry: too many arguments; see logferry --help\n");
    return 2;
  }
  const std::string_view arg = argc > 1 ? std::string_view(argv[1]) : std::string_view();
  const CliCommand command = cli_command(arg);
  if (command == CliCommand::help) {
    fmt::print("{}", cli_help_text());
    return 0;
  }
  if (command == CliCommand::version) {
    fmt::print("logferry {}\n", LOGFERRY_VERSION);
    return 0;
  }
  if (command == CliCommand::unknown) {
    fmt::print(stderr, "logferry: unknown argument \"{}\"; see logferry --help\n", arg);
    return 2;
  }
  const auto env = process_environment();
  const auto loaded = load_config(env, parser_catalog());
  if (!loaded.errors.empty()) {
    print_config_errors("logferry", loaded.errors);
    return 2;
  }
  if (command == CliCommand::check_config) {
    fmt::print("{}", render_effective<Config>(config_table(), env, loaded.implied));
    return 0;
  }
  configure_logging(loaded.config.log.level, loaded.config.log.format, "logferry");
  try {
    return run_app(loaded.config);
  } catch (const std::exception& e) {
    // Start-up failures the configuration could not foresee (e.g. an address in use).
    fmt::print(stderr, "logferry: fatal: {}\n", e.what());
    return 1;
  }
}

}  // namespace logferry
