// logferry-aggregator: environment -> config -> server. Everything else lives in logferry_aggregator_lib.
#include "aggregator/aggregator_cli.hpp"

int main(int argc, char** argv) { return logferry::aggregator::run_aggregator_cli(argc, argv); }
