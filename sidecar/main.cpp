// logferry: environment -> config -> app.run(). Everything else lives in logferry_core.
#include "sidecar/app/cli.hpp"

int main(int argc, char** argv) { return logferry::run_cli(argc, argv); }
