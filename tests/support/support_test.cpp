#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>

#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace logferry::test;

TEST_CASE("support: ChildProcess captures output, exit code and environment", "[ops][support]") {
  auto env = basic_environment();
  env["GREETING"] = "hello";
  ChildProcess p;
  p.start({"/bin/sh", "-c", "echo \"$GREETING out\"; echo err >&2; exit 3"}, env);
  CHECK(p.pid() > 0);
  const auto st = p.wait_for_exit(10s);
  REQUIRE(st);
  CHECK(st->code == 3);
  CHECK(st->signal == 0);
  CHECK(p.stdout_text() == "hello out\n");
  CHECK(p.stderr_text() == "err\n");
}

TEST_CASE("support: ChildProcess waits for text, kills by PID, feeds stdin", "[ops][support]") {
  ChildProcess p;
  p.start({"/bin/sh", "-c", "echo ready; read line; echo \"got $line\"; sleep 30"}, basic_environment(), true);
  CHECK(p.wait_for_stdout("ready\n", 10s));
  CHECK(p.write_stdin("ping\n"));
  CHECK(p.wait_for_stdout("got ping\n", 10s));
  CHECK_FALSE(p.wait_for_exit(100ms).has_value());
  CHECK(p.running());
  CHECK(p.kill(SIGTERM));
  const auto st = p.wait_for_exit(10s);
  REQUIRE(st);
  CHECK(st->signal == SIGTERM);
  CHECK_FALSE(p.kill(SIGTERM));
}

TEST_CASE("support: an unknown program is a clear error", "[ops][support]") {
  ChildProcess p;
  CHECK_THROWS_WITH(p.start({"/nonexistent/logferry-nothing"}, basic_environment()),
                    "cannot execute /nonexistent/logferry-nothing: No such file or directory");
  const auto r = run_process({"/bin/sh", "-c", "sleep 30"}, basic_environment(), 200ms);
  CHECK_FALSE(r.status.has_value());
}

TEST_CASE("support: TempDir creates and removes its directory", "[ops][support]") {
  std::filesystem::path kept;
  {
    TempDir dir("logferry-support");
    kept = dir.path();
    CHECK(std::filesystem::is_directory(kept));
    const auto f = dir.write_file("a/b.txt", "content");
    CHECK(read_file(f) == "content");
    CHECK(wait_until([] { return true; }, 1s));
  }
  CHECK_FALSE(std::filesystem::exists(kept));
}
