#include "sidecar/config/config.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"
#include "sidecar/parse/registry.hpp"
#include "unit/config/config_env.hpp"

using namespace logferry;

using test::pipe_environment;
using test::messages;

TEST_CASE("pipe config: a pipe alone is a source, with the documented defaults", "[pipe][config]") {
  test::TempDir tmp;
  auto r = load_config(pipe_environment(tmp), parser_catalog());
  REQUIRE(messages(r).empty());
  CHECK(r.config.pipe.path == (tmp / "app.pipe").string());
  CHECK(r.config.pipe.file_mode == 0622);
  CHECK(r.config.pipe.spill_dir == (tmp / "state" / "pipe-spill").string());
  CHECK(r.config.pipe.spill_max_bytes == 64 * 1024 * 1024);
  CHECK(r.config.pipe.overflow == PipeOverflow::block);
  CHECK_FALSE(r.config.read_stdin);
}

TEST_CASE("pipe config: stdin alone is a source", "[stdin][config]") {
  test::TempDir tmp;
  auto r = load_config({{"LOGFERRY_STDIN", "true"},
                        {"LOGFERRY_OUTPUT", "tcp://127.0.0.1:7070"},
                        {"LOGFERRY_CHECKPOINT_DIR", (tmp / "state").string()}}, parser_catalog());
  REQUIRE(messages(r).empty());
  CHECK(r.config.read_stdin);
}

TEST_CASE("pipe config: values are parsed, bad ones have exact messages", "[pipe][config]") {
  test::TempDir tmp;
  auto env = pipe_environment(tmp);
  SECTION("good values") {
    env["LOGFERRY_PIPE_MODE"] = "660";
    env["LOGFERRY_SPILL_DIR"] = (tmp / "spill").string();
    env["LOGFERRY_SPILL_MAX_BYTES"] = "1GiB";
    env["LOGFERRY_PIPE_OVERFLOW"] = "drop_oldest";
    auto r = load_config(env, parser_catalog());
    REQUIRE(messages(r).empty());
    CHECK(r.config.pipe.file_mode == 0660);
    CHECK(r.config.pipe.spill_dir == (tmp / "spill").string());
    CHECK(r.config.pipe.spill_max_bytes == 1024ull * 1024 * 1024);
    CHECK(r.config.pipe.overflow == PipeOverflow::drop_oldest);
    env["LOGFERRY_SPILL_MAX_BYTES"] = "0";
    env["LOGFERRY_PIPE_OVERFLOW"] = "drop_newest";
    env["LOGFERRY_PIPE_MODE"] = "0o600";
    r = load_config(env, parser_catalog());
    REQUIRE(messages(r).empty());
    CHECK(r.config.pipe.spill_max_bytes == 0);
    CHECK(r.config.pipe.overflow == PipeOverflow::drop_newest);
    CHECK(r.config.pipe.file_mode == 0600);
  }
  SECTION("bad values") {
    env["LOGFERRY_PIPE_MODE"] = "0400";  // logferry must read and write it
    env["LOGFERRY_SPILL_MAX_BYTES"] = "1KiB";
    env["LOGFERRY_PIPE_OVERFLOW"] = "drop";
    env["LOGFERRY_STDIN"] = "maybe";
    CHECK(messages(load_config(env, parser_catalog())) ==
          std::vector<std::string>{
              "LOGFERRY_PIPE_MODE=\"0400\": expected an octal mode from 0600 to 0777 such as 0622 or 0660",
              "LOGFERRY_STDIN=\"maybe\": expected true or false",
              "LOGFERRY_SPILL_MAX_BYTES=\"1KiB\": expected 0 (no spilling) or a size of at least 64KiB such as "
              "64MiB or 1GiB",
              "LOGFERRY_PIPE_OVERFLOW=\"drop\": expected block, drop_oldest or drop_newest",
          });
    env["LOGFERRY_PIPE_MODE"] = "0999";
    env.erase("LOGFERRY_SPILL_MAX_BYTES");
    env.erase("LOGFERRY_PIPE_OVERFLOW");
    env.erase("LOGFERRY_STDIN");
    CHECK(messages(load_config(env, parser_catalog())) ==
          std::vector<std::string>{
              "LOGFERRY_PIPE_MODE=\"0999\": expected an octal mode from 0600 to 0777 such as 0622 or 0660"});
  }
  SECTION("the pipe path holds something else") {
    tmp.write_file("app.pipe", "a regular file\n");
    CHECK(messages(load_config(env, parser_catalog())) ==
          std::vector<std::string>{"LOGFERRY_PIPE=\"" + (tmp / "app.pipe").string() +
                                   "\": exists and is not a named pipe"});
  }
}
