#pragma once
// The aggregator as an application: wires the store, the relay, the TCP
// server, the HTTP endpoint and the audit webhook on one io_context from a
// validated configuration, runs until SIGTERM or SIGINT, then drains and stops
// them in order. The command line (aggregator_cli.cpp) calls it.
#include "aggregator/aggregator_config.hpp"

namespace logferry::aggregator {

// Runs the aggregator; returns the process exit code: 0 after a clean stop,
// 1 when a part cannot start or the store failed.
int run_aggregator(const AggregatorConfig& config);

}  // namespace logferry::aggregator
