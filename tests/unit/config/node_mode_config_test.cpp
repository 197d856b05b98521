#include "sidecar/config/config.hpp"

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"
#include "sidecar/parse/registry.hpp"
#include "unit/config/config_env.hpp"

using namespace logferry;

using test::base_environment;

TEST_CASE("LOGFERRY_MODE defaults to sidecar, which keeps its defaults", "[config][node]") {
  test::TempDir tmp;
  auto env = base_environment(tmp);
  env["LOGFERRY_FILES"] = (tmp / "*.log").string();
  const auto r = load_config(env, parser_catalog());
  REQUIRE(r.errors.empty());
  CHECK(r.config.files.mode == Mode::sidecar);
  CHECK(r.config.parse.parser == "plain");
  CHECK(r.implied.empty());
  CHECK_THAT(render_effective<Config>(config_table(), env, r.implied),
             Catch::Contains("\nLOGFERRY_PARSER=plain  (default)\n"));
}

TEST_CASE("node mode reads the kubelet's container logs with the cri parser", "[config][node]") {
  test::TempDir tmp;
  auto env = base_environment(tmp);
  env["LOGFERRY_MODE"] = "node";
  auto r = load_config(env, parser_catalog());
  REQUIRE(r.errors.empty());
  CHECK(r.config.files.mode == Mode::node);
  CHECK(r.config.files.globs == std::vector<std::string>{"/var/log/containers/*.log"});
  CHECK(r.config.parse.parser == "cri");
  // --check-config shows what node mode reads, not the sidecar's defaults.
  std::string effective = render_effective<Config>(config_table(), env, r.implied);
  CHECK_THAT(effective,
             Catch::StartsWith("LOGFERRY_FILES=/var/log/containers/*.log  (default with LOGFERRY_MODE=node)\n"));
  CHECK_THAT(effective, Catch::Contains("\nLOGFERRY_PARSER=cri  (default with LOGFERRY_MODE=node)\n"));

  // Explicit settings win.
  env["LOGFERRY_FILES"] = (tmp / "containers/*.log").string();
  env["LOGFERRY_PARSER"] = "docker";
  r = load_config(env, parser_catalog());
  REQUIRE(r.errors.empty());
  CHECK(r.config.files.globs == std::vector<std::string>{(tmp / "containers/*.log").string()});
  CHECK(r.config.parse.parser == "docker");
  CHECK(r.implied.empty());
  effective = render_effective<Config>(config_table(), env, r.implied);
  CHECK_THAT(effective, Catch::Contains("\nLOGFERRY_PARSER=docker\n"));
}

TEST_CASE("an unknown LOGFERRY_MODE names the allowed values", "[config][node]") {
  test::TempDir tmp;
  auto env = base_environment(tmp);
  env["LOGFERRY_MODE"] = "daemonset";
  const auto r = load_config(env, parser_catalog());
  REQUIRE_FALSE(r.errors.empty());
  CHECK(r.errors[0].message == "LOGFERRY_MODE=\"daemonset\": expected sidecar or node");
}
