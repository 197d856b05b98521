// The multi-call executable the container image ships (logferry-multicall,
// installed as logferry with a logferry-aggregator symlink): it runs the
// aggregator when called by that name or with the first argument `aggregator`,
// the sidecar otherwise; both then forward lines end to end.
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <regex>
#include <string>

#include "support/process.hpp"
#include "support/store_reader.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace logferry::test;
namespace fs = std::filesystem;

namespace {

RunResult run(const std::vector<std::string>& argv) { return run_process(argv, basic_environment(), 30s); }

}  // namespace

TEST_CASE("multicall: dispatches on its name and on the first argument", "[e2e][cli][multicall]") {
  TempDir dir("logferry-multicall");
  const fs::path link = dir / "bin/logferry-aggregator";
  fs::create_directories(link.parent_path());
  fs::create_symlink(LOGFERRY_MULTICALL_BIN, link);

  const auto sidecar = run({LOGFERRY_MULTICALL_BIN, "--version"});
  REQUIRE(sidecar.status);
  CHECK(sidecar.status->code == 0);
  CHECK(sidecar.out == std::string("logferry ") + LOGFERRY_VERSION + "\n");

  const auto by_argument = run({LOGFERRY_MULTICALL_BIN, "aggregator", "--version"});
  REQUIRE(by_argument.status);
  CHECK(by_argument.status->code == 0);
  CHECK(by_argument.out == std::string("logferry-aggregator ") + LOGFERRY_VERSION + "\n");

  const auto by_name = run({link.string(), "--version"});
  REQUIRE(by_name.status);
  CHECK(by_name.status->code == 0);
  CHECK(by_name.out == std::string("logferry-aggregator ") + LOGFERRY_VERSION + "\n");

  // Each program keeps its own command line and errors.
  const auto sidecar_help = run({LOGFERRY_MULTICALL_BIN, "--help"});
  REQUIRE(sidecar_help.status);
  CHECK(sidecar_help.out.find("LOGFERRY_FILES") != std::string::npos);
  const auto aggregator_help = run({LOGFERRY_MULTICALL_BIN, "aggregator", "--help"});
  REQUIRE(aggregator_help.status);
  CHECK(aggregator_help.out.find("LOGFERRY_AGGREGATOR_LISTEN") != std::string::npos);
  const auto bad = run({link.string(), "--bogus"});
  REQUIRE(bad.status);
  CHECK(bad.status->code == 2);
  CHECK(bad.err == "logferry-aggregator: unknown argument --bogus; try --help\n");
}

TEST_CASE("multicall: the aggregator (by name) and the sidecar forward lines", "[e2e][multicall]") {
  TempDir dir("logferry-multicall");
  const fs::path link = dir / "bin/logferry-aggregator";
  fs::create_directories(link.parent_path());
  fs::create_symlink(LOGFERRY_MULTICALL_BIN, link);
  std::string lines;
  for (int i = 0; i < 50; ++i) lines += "multicall-line-" + std::to_string(i) + "\n";
  dir.write_file("logs/app.log", lines);

  ProcessEnv agg_env = basic_environment();
  agg_env["LOGFERRY_AGGREGATOR_LISTEN"] = "127.0.0.1:0";
  agg_env["LOGFERRY_AGGREGATOR_DATA_DIR"] = (dir / "store").string();
  ChildProcess aggregator;
  aggregator.start({link.string()}, agg_env);
  REQUIRE(aggregator.wait_for_stdout("listening on 127.0.0.1:", 15s));
  REQUIRE(wait_until([&] { return aggregator.stdout_text().find('\n') != std::string::npos; }, 10s));
  std::smatch m;
  const std::string out = aggregator.stdout_text();
  REQUIRE(std::regex_search(out, m, std::regex("listening on 127\\.0\\.0\\.1:([0-9]+)")));

  ProcessEnv env = basic_environment();
  env["LOGFERRY_FILES"] = (dir / "logs/*.log").string();
  env["LOGFERRY_OUTPUT"] = "tcp://127.0.0.1:" + m[1].str();
  env["LOGFERRY_CHECKPOINT_DIR"] = (dir / "state").string();
  ChildProcess sidecar;
  sidecar.start({LOGFERRY_MULTICALL_BIN}, env);
  const bool arrived = wait_until([&] { return count_stored(dir / "store") >= 50; }, 30s, 50ms);
  INFO("sidecar stderr:\n" << sidecar.stderr_text() << "\naggregator stderr:\n" << aggregator.stderr_text());
  CHECK(arrived);
  const auto stored = read_store(dir / "store");
  REQUIRE(stored.size() == 50);
  for (int i = 0; i < 50; ++i) CHECK(stored[static_cast<size_t>(i)].body == "multicall-line-" + std::to_string(i));

  REQUIRE(sidecar.kill(SIGTERM));
  CHECK(sidecar.wait_for_exit(20s).has_value());
  REQUIRE(aggregator.kill(SIGTERM));
  const auto st = aggregator.wait_for_exit(20s);
  REQUIRE(st);
  CHECK(st->code == 0);
}
