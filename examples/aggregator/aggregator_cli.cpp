#include "aggregator/aggregator_cli.hpp"

#include <cstdio>
#include <exception>
#include <string_view>

#include <fmt/format.h>

#include "aggregator/aggregator_app.hpp"
#include "aggregator/aggregator_config.hpp"
#include "aggregator/version.hpp"
#include "sidecar/config/command_line.hpp"

namespace logferry::aggregator {

int run_aggregator_cli(int argc, char** argv) {
  const std::string_view arg = argc > 1 ? std::string_view(argv[1]) : std::string_view();
  const CliCommand command = cli_command(arg);
  if (command == CliCommand::help) {
    fmt::print("logferry-aggregator {}: receives batches from logferry sidecars over the native protocol,\n"
               "stores each entry once as ndjson and acknowledges it.\n\nEnvironment variables:\n{}",
               version(), render_help<AggregatorConfig>(aggregator_config_table()));
    return 0;
  }
  if (command == CliCommand::version) {
    fmt::print("logferry-aggregator {}\n", version());
    return 0;
  }
  if (command == CliCommand::unknown) {
    fmt::print(stderr, "logferry-aggregator: unknown argument {}; try --help\n", arg);
    return 2;
  }
  const auto env = process_environment();
  auto loaded = load_aggregator_config(env);
  if (!loaded.errors.empty()) {
    print_config_errors("logferry-aggregator", loaded.errors);
    return 2;
  }
  if (command == CliCommand::check_config) {
    fmt::print("{}", render_effective<AggregatorConfig>(aggregator_config_table(), env));
    return 0;
  }
  try {
    return run_aggregator(loaded.config);
  } catch (const std::exception& e) {
    fmt::print(stderr, "logferry-aggregator: {}\n", e.what());
    return 1;
  }
}

}  // namespace logferry::aggregator
