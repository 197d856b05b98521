// The real `logferry` binary's command line, with a controlled environment.
#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <string>

#include <fmt/format.h>

#include "sidecar/config/config.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace logferry;
using namespace logferry::test;

namespace {

RunResult run_logferry(const std::vector<std::string>& args, const ProcessEnv& env) {
  std::vector<std::string> argv{LOGFERRY_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, env, 30s);
}

}  // namespace

TEST_CASE("cli: --version", "[e2e][cli]") {
  const auto r = run_logferry({"--version"}, {});
  REQUIRE(r.status);
  CHECK(r.status->code == 0);
  CHECK(r.out == std::string("logferry ") + LOGFERRY_VERSION + "\n");
  CHECK(r.err.empty());
}

TEST_CASE("cli: --help lists every variable with its default, never a secret", "[e2e][cli]") {
  const auto r = run_logferry({"--help"}, {{"LOGFERRY_AUTH_TOKEN", "s3cret-token"}});
  REQUIRE(r.status);
  CHECK(r.status->code == 0);
  CHECK(r.err.empty());
  CHECK(r.out.starts_with("Usage: logferry [--help | --version | --check-config]\n"));
  CHECK(r.out.find("s3cret-token") == std::string::npos);
  for (const auto& var : config_table()) {
    INFO(var.name);
    std::string block = "  " + std::string(var.name) + "\n      " + std::string(var.description) + "\n";
    if (var.secret == Secret::yes) block += "      (secret: never printed)\n";
    else if (!var.default_value.empty()) block += "      default: " + std::string(var.default_value) + "\n";
    CHECK(r.out.find(block) != std::string::npos);
  }
  CHECK(r.out.find("  LOGFERRY_BATCH_TIMEOUT\n      ...or when its first entry has waited this long.\n"
                   "      default: 200ms\n") != std::string::npos);
}

TEST_CASE("cli: --check-config prints the effective configuration, secrets redacted", "[e2e][cli]") {
  TempDir dir("logferry-cli");
  const ProcessEnv env{{"LOGFERRY_FILES", (dir / "*.log").string()},
                       {"LOGFERRY_OUTPUT", "tcp://127.0.0.1:9"},
                       {"LOGFERRY_CHECKPOINT_DIR", (dir / "state").string()},
                       {"LOGFERRY_AUTH_TOKEN", "s3cret-token"},
                       {"LOGFERRY_BATCH_MAX_ENTRIES", "100"},
                       {"POD_NAME", "web-0"}};
  const auto r = run_logferry({"--check-config"}, env);
  REQUIRE(r.status);
  CHECK(r.status->code == 0);
  CHECK(r.err.empty());
  CHECK(r.out.find("s3cret-token") == std::string::npos);
  CHECK(r.out.find("\nLOGFERRY_AUTH_TOKEN=<redacted>\n") != std::string::npos);
  CHECK(r.out.find("\nLOGFERRY_OUTPUT=tcp://127.0.0.1:9\n") != std::string::npos);
  CHECK(r.out.find("\nLOGFERRY_BATCH_MAX_ENTRIES=100\n") != std::string::npos);
  CHECK(r.out.find("\nLOGFERRY_BATCH_TIMEOUT=200ms  (default)\n") != std::string::npos);
  CHECK(r.out.find("\nLOGFERRY_HTTP_ADDR=  (unset)\n") != std::string::npos);
  CHECK(r.out.find("\nPOD_NAME=web-0\n") != std::string::npos);
  CHECK(r.out.starts_with("LOGFERRY_FILES=" + (dir / "*.log").string() + "\n"));
  // One line per variable of the table, nothing else.
  CHECK(static_cast<size_t>(std::count(r.out.begin(), r.out.end(), '\n')) == config_table().size());
}

TEST_CASE("cli: configuration errors, all at once, exit 2", "[e2e][cli]") {
  TempDir dir("logferry-cli");
  const ProcessEnv env{{"LOGFERRY_FLIES", "/var/log/*.log"},
                       {"LOGFERRY_BATCH_TIMEOUT", "soon"},
                       {"LOGFERRY_CHECKPOINT_DIR", (dir / "state").string()}};
  const std::string expected =
      "logferry: configuration error: LOGFERRY_BATCH_TIMEOUT=\"soon\": expected a duration such as 250ms, 5s or 2m\n"
      "logferry: configuration error: LOGFERRY_FLIES: unknown variable; did you mean LOGFERRY_FILES?\n"
      "logferry: configuration error: LOGFERRY_OUTPUT=\"\": required: expected tcp://HOST:PORT\n"
      "logferry: configuration error: LOGFERRY_FILES=\"\": no source configured: set LOGFERRY_FILES (globs), "
      "LOGFERRY_PIPE or LOGFERRY_STDIN=true\n";
  for (const auto& args : {std::vector<std::string>{"--check-config"}, std::vector<std::string>{}}) {
    const auto r = run_logferry(args, env);
    REQUIRE(r.status);
    CHECK(r.status->code == 2);
    CHECK(r.out.empty());
    CHECK(r.err == expected);
  }
}

TEST_CASE("cli: unknown arguments are usage errors", "[e2e][cli]") {
  const auto r = run_logferry({"--frobnicate"}, {});
  REQUIRE(r.status);
  CHECK(r.status->code == 2);
  CHECK(r.out.empty());
  CHECK(r.err == "logferry: unknown argument \"--frobnicate\"; see logferry --help\n");
  const auto two = run_logferry({"--help", "--version"}, {});
  REQUIRE(two.status);
  CHECK(two.status->code == 2);
  CHECK(two.err == "logferry: too many arguments; see logferry --help\n");
}

TEST_CASE("cli: running serves /healthz, /readyz and /metrics, and stops on SIGTERM", "[e2e][cli][http]") {
  TempDir dir("logferry-cli");
  dir.write_file("logs/app.log", "one\ntwo\n");
  const uint16_t port = free_port();
  // The output is a closed port: the sidecar keeps retrying, the endpoint still answers.
  const ProcessEnv env{{"LOGFERRY_FILES", (dir / "logs/*.log").string()},
                       {"LOGFERRY_OUTPUT", "tcp://127.0.0.1:" + std::to_string(free_port())},
                       {"LOGFERRY_CHECKPOINT_DIR", (dir / "state").string()},
                       {"LOGFERRY_HTTP_ADDR", "127.0.0.1:" + std::to_string(port)},
                       {"LOGFERRY_SHUTDOWN_TIMEOUT", "1s"}};
  ChildProcess p;
  p.start({LOGFERRY_BIN}, env);
  std::optional<HttpReply> health;
  REQUIRE(wait_until([&] { return (health = http_get("127.0.0.1", port, "/healthz", 1s)).has_value() || !p.running(); }, 15s));
  INFO(p.stderr_text());
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(health->body == "ok\n");

  auto metrics = http_get("127.0.0.1", port, "/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  CHECK(metrics->headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8");
  // Built with fmt: GCC 12 misreports std::string's operator+ on this line (bug 105329).
  CHECK(metrics->body.find(fmt::format("logferry_build_info{{version=\"{}\"}} 1\n", LOGFERRY_VERSION)) !=
        std::string::npos);
  CHECK(metrics->body.find("logferry_output_connected 0\n") != std::string::npos);

  // Ready once the file is open: nothing is stuck yet (the stall window is a minute).
  std::optional<HttpReply> ready;
  CHECK(wait_until([&] { return (ready = http_get("127.0.0.1", port, "/readyz", 1s)) && ready->status == 200; }, 15s));

  REQUIRE(p.kill(SIGTERM));
  const auto st = p.wait_for_exit(20s);
  REQUIRE(st);
  CHECK(st->signal == 0);
  CHECK((st->code == 0 || st->code == 1));  // 1: lines left unacknowledged at the shutdown timeout
}
