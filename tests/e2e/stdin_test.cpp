// `app | logferry`: lines piped into the sidecar's standard input are stored
// exactly once, and at end-of-file the sidecar drains and exits 0 by itself.
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "support/logferry_processes.hpp"
#include "support/store_reader.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace logferry::test;

TEST_CASE("stdin: lines piped in are stored once, and end-of-file drains and exits 0", "[e2e][stdin]") {
  TempDir tmp("logferry-e2e-stdin");
  Aggregator aggregator(tmp / "store");
  ProcessEnv env = basic_environment();
  env["LOGFERRY_STDIN"] = "true";
  env["LOGFERRY_OUTPUT"] = aggregator.output();
  env["LOGFERRY_CHECKPOINT_DIR"] = (tmp / "state").string();
  env["LOGFERRY_BUFFER_MAX_BYTES"] = "1MiB";  // smaller than the input: the writer is paced
  env["LOGFERRY_LOG_LEVEL"] = "info";
  ChildProcess sidecar;
  sidecar.start({LOGFERRY_BIN}, env, /*keep_stdin=*/true);

  std::map<std::string, std::vector<std::string>> written;
  auto& lines = written["stdin"];
  std::string chunk;
  for (int i = 0; i < 50'000; ++i) {
    lines.push_back(fmt::format("stdin line {:06} {}", i, std::string(i % 60, 's')));
    chunk += lines.back();
    chunk += '\n';
    if (chunk.size() > 32 * 1024) {
      REQUIRE(sidecar.write_stdin(chunk));
      chunk.clear();
    }
  }
  lines.push_back("the last line has no newline");
  chunk += lines.back();
  REQUIRE(sidecar.write_stdin(chunk));
  sidecar.close_stdin();

  const auto status = sidecar.wait_for_exit(60s);
  INFO(sidecar.stderr_text());
  REQUIRE(status);
  CHECK(status->code == 0);
  CHECK(sidecar.stderr_text().find("\"msg\":\"input ended: draining\"") != std::string::npos);
  CHECK(sidecar.stderr_text().find("\"msg\":\"drained: every line acknowledged\"") != std::string::npos);

  // Everything was acknowledged before the exit: it is all in the store now.
  const auto stored = read_store(tmp / "store");
  const auto check = check_delivery(stored, written);
  CHECK(check.expected == 50'001);
  CHECK(check.stored == 50'001);
  CHECK(check.missing == 0);
  CHECK(check.duplicates == 0);
  CHECK(check.unexpected == 0);
  CHECK(check.out_of_order == 0);
  REQUIRE_FALSE(stored.empty());
  CHECK(stored.front().source_id.starts_with("stdin:"));
  CHECK(aggregator.stop() == 0);
}

TEST_CASE("stdin: an empty input exits 0 at once", "[e2e][stdin]") {
  TempDir tmp("logferry-e2e-stdin");
  Aggregator aggregator(tmp / "store");
  ProcessEnv env = basic_environment();
  env["LOGFERRY_STDIN"] = "true";
  env["LOGFERRY_OUTPUT"] = aggregator.output();
  env["LOGFERRY_CHECKPOINT_DIR"] = (tmp / "state").string();
  ChildProcess sidecar;
  sidecar.start({LOGFERRY_BIN}, env);  // stdin is /dev/null
  const auto status = sidecar.wait_for_exit(30s);
  INFO(sidecar.stderr_text());
  REQUIRE(status);
  CHECK(status->code == 0);
  CHECK(count_stored(tmp / "store") == 0);
  CHECK(aggregator.stop() == 0);
}
