#include "aggregator/aggregator_cli.hpp"

#include <cstdio>
#include <exception>
#include <string_view>

#include <fmt/format.h>

#include "aggregator/aggregator_app.hpp"
#include "aggregator/aggregator_config.hpp"
#include "aggregator/version.hpp"

namespace logferry::aggregator {

int run_aggregator_cli(int argc, char** argv) {
  const std::string_view arg = argc > 1 ? std::string_view(argv[1]) : std::string_view();
  if (arg == "--help" || arg == "-h") {
    fmt::print("logferry-aggregator {}: receives batches from logferry sidecars over the native protocol,\n"
               "stores each entry once as ndjson and acknowledges it.\n\nEnvironment variables:\n{}",
               version(), render_help<AggregatorConfig>(aggregator_config_table()));
    return 0;
  }
  if (arg == "--version") {
    fmt::print("logferry-aggregator {}\n", version());
    return 0;
  }
  if (!arg.empty() && arg != "--check-config") {
    fmt::print(stderr, "logferry-aggregator: unknown argument {}; try --help\n", arg);
    return 2;
  }
  const auto env = process_environment();
  auto loaded = load_aggregator_config(env);
  if (!loaded.errors.empty()) {
    for (const auto& e : loaded.errors) fmt::print(stderr, "logferry-aggregator: configuration error: {}\n", e.message);
    return 2;
  }
  if (arg == "--check-config") {
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
