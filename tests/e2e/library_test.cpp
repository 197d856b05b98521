// The client library (logferry::client) end to end: a program linking it the
// way an application does logs from several threads into the real aggregator,
// which is killed and restarted meanwhile; a tiny queue with the output absent
// counts its drops exactly; and an installed copy of this build is found by
// examples/library's own CMake project with find_package(logferry).
#include <csignal>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "support/logferry_processes.hpp"
#include "support/store_reader.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace logferry::test;
namespace fs = std::filesystem;

namespace {

// log() must never wait for the network or the event loop: it only takes a
// mutex around a queue push (microseconds). This is a generous correctness
// bound, not a speed goal: a call that waited for delivery would take as long
// as the aggregator's restart (300ms pause plus reconnect backoff here). The
// slack is for the scheduler: with 4 logging threads on a loaded 2-core
// machine a thread preempted inside log() (or holding the queue's mutex) was
// measured at 23ms, and sanitizer builds are slower.
constexpr long long kMaxLogCallMicros = 100'000;

// The value of "key": in a line the load app printed (-1 when absent).
long long stat_of(const std::string& out, std::string_view line_tag, std::string_view key) {
  const size_t line = out.find(std::string(line_tag) + " {");
  if (line == std::string::npos) return -1;
  const size_t pos = out.find("\"" + std::string(key) + "\":", line);
  if (pos == std::string::npos) return -1;
  const std::string rest = out.substr(pos + key.size() + 3, 24);
  if (rest.starts_with("true")) return 1;
  if (rest.starts_with("false")) return 0;
  return std::stoll(rest);
}

ProcessEnv client_env(const std::string& output) {
  ProcessEnv env = basic_environment();
  env["LOGFERRY_OUTPUT"] = output;
  env["LOGFERRY_BACKOFF_INITIAL"] = "50ms";
  env["LOGFERRY_BACKOFF_MAX"] = "300ms";
  env["LOGFERRY_ACK_TIMEOUT"] = "3s";
  env["LOGFERRY_LOG_LEVEL"] = "warn";
  env["POD_NAME"] = "library-app";
  env["POD_NAMESPACE"] = "test";
  return env;
}

// Every stored entry's body appears once, offsets 0..n-1 each once (one source).
void require_each_once(const fs::path& store, size_t expected, const std::set<std::string>& bodies) {
  const auto stored = read_store(store);
  std::map<std::string, int> seen;
  std::set<uint64_t> offsets;
  std::set<std::string> ids;
  for (const auto& e : stored) {
    ++seen[e.body];
    offsets.insert(e.offset);
    ids.insert(e.source_id);
  }
  size_t duplicates = 0, unexpected = 0;
  for (const auto& [body, n] : seen) {
    if (n > 1) duplicates += static_cast<size_t>(n - 1);
    if (!bodies.empty() && !bodies.contains(body)) ++unexpected;
  }
  CHECK(duplicates == 0);
  CHECK(unexpected == 0);
  REQUIRE(stored.size() == expected);
  REQUIRE(seen.size() == expected);
  CHECK(ids.size() == 1);
  REQUIRE(offsets.size() == expected);
  CHECK(*offsets.begin() == 0);
  CHECK(*offsets.rbegin() == expected - 1);
}

}  // namespace

TEST_CASE("library: 100,000 entries from 4 threads while the aggregator is killed twice: each stored once, "
          "log() never blocks", "[e2e][library]") {
  TempDir tmp("logferry-library");
  Aggregator aggregator(tmp / "store");  // fsync always: an ack means durable
  ProcessEnv env = client_env(aggregator.output());
  env["LOGFERRY_CLIENT_QUEUE_ENTRIES"] = "200000";  // room for everything: no drops allowed here
  ChildProcess app;
  // 4 x 25,000 entries, a 2ms pause after every 25: a few seconds of logging.
  app.start({LOGFERRY_LIBRARY_LOAD_APP, "4", "25000", "25", "2000", "60000"}, env);
  REQUIRE(app.wait_for_stdout("logging", 20s));
  for (const size_t stored_before_kill : {10'000u, 50'000u}) {
    REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= stored_before_kill; }, 30s, 10ms));
    CHECK(app.stdout_text().find("logged {") == std::string::npos);  // killed while the app logs
    aggregator.process().kill(SIGKILL);
    REQUIRE(aggregator.process().wait_for_exit(5s));
    std::this_thread::sleep_for(300ms);
    const uint16_t port = aggregator.port();
    aggregator.restart();  // same data directory, same port
    REQUIRE(aggregator.port() == port);
  }
  const auto status = app.wait_for_exit(120s);
  REQUIRE(status);
  const std::string out = app.stdout_text();
  INFO(out << app.stderr_text());
  CHECK(status->code == 0);
  CHECK(stat_of(out, "done", "logged") == 100'000);
  CHECK(stat_of(out, "done", "accepted") == 100'000);
  CHECK(stat_of(out, "done", "dropped") == 0);
  CHECK(stat_of(out, "done", "acked") == 100'000);
  CHECK(stat_of(out, "done", "flushed") == 1);
  const long long max_log_us = stat_of(out, "done", "max_log_us");
  CHECK(max_log_us >= 0);
  CHECK(max_log_us < kMaxLogCallMicros);
  std::set<std::string> bodies;
  for (int t = 0; t < 4; ++t)
    for (int i = 0; i < 25'000; ++i) bodies.insert("t" + std::to_string(t) + "-" + std::to_string(i));
  require_each_once(tmp / "store", 100'000, bodies);
  CHECK(aggregator.stop() == 0);
}

TEST_CASE("library: a tiny queue with the output absent counts its drops exactly", "[e2e][library]") {
  TempDir tmp("logferry-library-full");
  Aggregator aggregator(tmp / "store");
  const uint16_t port = aggregator.port();
  aggregator.stop();  // absent while the app logs (just started: SIGTERM may end it before its handler is set)
  ProcessEnv env = client_env(aggregator.output());
  env["LOGFERRY_CLIENT_QUEUE_ENTRIES"] = "50";
  // A small delivery buffer fills first, then the queue.
  env["LOGFERRY_BATCH_MAX_ENTRIES"] = "10";
  env["LOGFERRY_BATCH_MAX_BYTES"] = "1KiB";
  env["LOGFERRY_BUFFER_MAX_BYTES"] = "4KiB";
  ChildProcess app;
  app.start({LOGFERRY_LIBRARY_LOAD_APP, "4", "5000", "1000000", "0", "60000"}, env);
  REQUIRE(app.wait_for_stdout("logged {", 60s));
  const std::string logged_line = app.stdout_text();
  const long long logged = stat_of(logged_line, "logged", "logged");
  const long long accepted = stat_of(logged_line, "logged", "accepted");
  const long long dropped = stat_of(logged_line, "logged", "dropped");
  CHECK(logged == 20'000);
  CHECK(accepted + dropped == logged);
  CHECK(accepted >= 50);  // the queue's capacity, at least
  CHECK(dropped > 0);
  CHECK(stat_of(logged_line, "logged", "acked") == 0);
  CHECK(stat_of(logged_line, "logged", "max_log_us") < kMaxLogCallMicros);

  // The output comes back: exactly the accepted entries are delivered.
  Aggregator back(tmp / "store", {}, port);
  const auto status = app.wait_for_exit(60s);
  REQUIRE(status);
  const std::string out = app.stdout_text();
  INFO(out << app.stderr_text());
  CHECK(status->code == 0);
  CHECK(stat_of(out, "done", "flushed") == 1);
  CHECK(stat_of(out, "done", "acked") == accepted);
  require_each_once(tmp / "store", static_cast<size_t>(accepted), {});
  CHECK(back.stop() == 0);
}

TEST_CASE("library: an installed logferry is found by examples/library with find_package, and the example "
          "forwards", "[e2e][library]") {
  TempDir tmp("logferry-library-install");
  const fs::path prefix = tmp / "prefix";
  const ProcessEnv env = basic_environment();
  auto run = [&](const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    const RunResult r = run_process(argv, env, timeout);
    INFO(r.out << r.err);
    REQUIRE(r.status);
    REQUIRE(r.status->code == 0);
  };
  run({LOGFERRY_CMAKE_COMMAND, "--install", LOGFERRY_BUILD_DIR, "--prefix", prefix.string()}, 120s);
  REQUIRE(fs::exists(prefix / "include" / "logferry" / "client.hpp"));
  REQUIRE(fs::exists(prefix / "lib" / "cmake" / "logferry" / "logferryConfig.cmake"));

  const std::string sanitize = LOGFERRY_SANITIZE_FLAGS;
  std::vector<std::string> configure{LOGFERRY_CMAKE_COMMAND,
                                     "-S", std::string(LOGFERRY_SOURCE_DIR) + "/examples/library",
                                     "-B", (tmp / "build").string(),
                                     "-G", LOGFERRY_CMAKE_GENERATOR,
                                     "-DCMAKE_BUILD_TYPE=Release",
                                     "-DCMAKE_CXX_COMPILER=" LOGFERRY_CXX_COMPILER,
                                     "-DCMAKE_PREFIX_PATH=" + prefix.string()};
  if (!sanitize.empty()) {
    configure.push_back("-DCMAKE_CXX_FLAGS=" + sanitize);
    configure.push_back("-DCMAKE_EXE_LINKER_FLAGS=" + sanitize);
  }
  run(configure, 180s);
  run({LOGFERRY_CMAKE_COMMAND, "--build", (tmp / "build").string(), "-j", "2"}, 300s);
  const fs::path example = tmp / "build" / "logferry-library-example";
  REQUIRE(fs::exists(example));

  Aggregator aggregator(tmp / "store");
  const RunResult r = run_process({example.string(), "25"}, client_env(aggregator.output()), 60s);
  INFO(r.out << r.err);
  REQUIRE(r.status);
  CHECK(r.status->code == 0);
  CHECK(r.out.find("\"flushed\":true") != std::string::npos);
  std::set<std::string> bodies;
  for (int i = 0; i < 25; ++i) bodies.insert("order placed " + std::to_string(i));
  require_each_once(tmp / "store", 25, bodies);
  CHECK(aggregator.stop() == 0);
}
