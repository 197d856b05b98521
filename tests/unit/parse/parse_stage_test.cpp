#include "sidecar/parse/parse_stage.hpp"

#include <catch2/catch.hpp>

#include "tests/unit/parse/chain_driver.hpp"

using namespace logferry;
using namespace logferry::test;

namespace {

Origin origin_at(std::string path) {
  Origin o;
  o.path = std::move(path);
  return o;
}

}  // namespace

TEST_CASE("ParseStage: the configured chain, or the parser and preset an origin's owner asked for", "[parse]") {
  ParseOptions options;
  options.parser = "cri";
  options.parser_overrides = {{"/var/log/app/*.log", "json"}};
  const ParseStage stage(options);
  const std::string line = R"(2024-01-02T15:04:05.000000001Z stdout F {"msg":"hello"})";

  // As configured: cri with auto inside (the JSON message is parsed).
  ChainDriver configured(stage.chain_for(origin_at("/var/log/containers/a.log")));
  configured.feed(line);
  CHECK(configured.bodies() == std::vector<std::string>{"hello"});

  // Behind cri, the asked parser reads the message inside each line.
  ChainDriver asked(stage.chain_for(origin_at("/var/log/containers/a.log"), "plain"));
  asked.feed(line);
  CHECK(asked.bodies() == std::vector<std::string>{R"({"msg":"hello"})"});

  // Elsewhere it replaces the configured parser (and the path's override).
  ChainDriver replaced(stage.chain_for(origin_at("/var/log/app/x.log"), "plain"));
  replaced.feed(R"({"msg":"hello"})");
  CHECK(replaced.bodies() == std::vector<std::string>{R"({"msg":"hello"})"});

  // A multiline preset joins a stack trace inside the cri lines.
  ChainDriver java(stage.chain_for(origin_at("/var/log/containers/a.log"), {}, "java"));
  for (const char* m : {"Exception in thread main", "\tat a.b.C.d(C.java:1)", "next record"})
    java.feed(std::string("2024-01-02T15:04:05.000000001Z stdout F ") + m);
  java.flush();
  CHECK(java.bodies() == std::vector<std::string>{"Exception in thread main\n\tat a.b.C.d(C.java:1)", "next record"});
  CHECK(stage.flush_timeout() == options.multiline_timeout);
}
