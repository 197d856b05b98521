#include "sidecar/parse/multiline_parser.hpp"
#include "sidecar/parse/parse_stage.hpp"

#include "tests/unit/parse/chain_driver.hpp"

using namespace logferry;
using namespace logferry::test;

namespace {

uint64_t offset_of(const std::vector<std::string>& lines, size_t index) {
  uint64_t off = 0;
  for (size_t i = 0; i < index; ++i) off += lines[i].size() + 1;
  return off;
}

void feed_all(ChainDriver& d, const std::vector<std::string>& lines) {
  for (const auto& l : lines) d.feed(l);
}

}  // namespace

TEST_CASE("multiline java: stack traces join the line before them", "[parse]") {
  const std::vector<std::string> lines{
      "2024-01-02 15:04:05.123 INFO  [main] c.e.App - starting",
      "2024-01-02 15:04:06.001 ERROR [main] c.e.App - request failed",
      "java.lang.IllegalStateException: boom",
      "\tat com.example.App.handle(App.java:42)",
      "\tat com.example.App.main(App.java:10)",
      "Caused by: java.io.IOException: disk full",
      "\tat com.example.Store.write(Store.java:7)",
      "\t... 2 more",
      "2024-01-02 15:04:07.000 INFO  [main] c.e.App - recovered",
  };
  auto d = driver_for({{"LOGFERRY_MULTILINE", "java"}});
  feed_all(d, lines);
  REQUIRE(d.out.size() == 2);  // the last record is held until the timeout
  d.flush();
  REQUIRE(d.out.size() == 3);
  CHECK(d.out[0].entry.body().string_value() == lines[0]);
  std::string trace = lines[1];
  for (size_t i = 2; i <= 7; ++i) trace += "\n" + lines[i];
  CHECK(d.out[1].entry.body().string_value() == trace);
  CHECK(d.out[2].entry.body().string_value() == lines[8]);
  CHECK(d.out[0].offset == 0);
  CHECK(d.out[1].offset == offset_of(lines, 1));
  CHECK(d.out[2].offset == offset_of(lines, 8));
}

TEST_CASE("multiline python: tracebacks, chained exceptions included", "[parse]") {
  const std::vector<std::string> lines{
      "INFO:root:starting",
      "ERROR:root:failed",
      "Traceback (most recent call last):",
      "  File \"app.py\", line 3, in <module>",
      "    main()",
      "ZeroDivisionError: division by zero",
      "",
      "During handling of the above exception, another exception occurred:",
      "",
      "Traceback (most recent call last):",
      "  File \"app.py\", line 5, in <module>",
      "    raise RuntimeError(\"wrapped\")",
      "RuntimeError: wrapped",
      "INFO:root:next",
  };
  auto d = driver_for({{"LOGFERRY_MULTILINE", "python"}});
  feed_all(d, lines);
  d.flush();
  REQUIRE(d.bodies().size() == 3);
  CHECK(d.bodies()[0] == "INFO:root:starting");
  CHECK(d.bodies()[1].starts_with("ERROR:root:failed\nTraceback"));
  CHECK(d.bodies()[1].ends_with("\nRuntimeError: wrapped"));
  CHECK(d.bodies()[2] == "INFO:root:next");
}

TEST_CASE("multiline go: a panic with goroutine dumps, between logfmt lines", "[parse]") {
  const std::vector<std::string> lines{
      "level=info msg=serving port=8080",
      "panic: runtime error: index out of range [5] with length 3",
      "",
      "goroutine 1 [running]:",
      "main.handler(...)",
      "\t/app/main.go:12",
      "main.(*Server).serve(0xc000010000)",
      "\t/app/main.go:20 +0x1d",
      "exit status 2",
      "level=info msg=restarted",
  };
  auto d = driver_for({{"LOGFERRY_MULTILINE", "go"}, {"LOGFERRY_PARSER", "auto"}});
  feed_all(d, lines);
  d.flush();
  REQUIRE(d.out.size() == 3);
  CHECK(d.out[0].entry.body().string_value() == "serving");
  CHECK(render_entry(d.out[0].entry)["attr:port"] == "i:8080");
  CHECK(d.out[1].entry.body().string_value().starts_with("panic: runtime error"));
  CHECK(d.out[1].entry.body().string_value().ends_with("+0x1d\nexit status 2"));
  CHECK(d.out[2].entry.body().string_value() == "restarted");
}

TEST_CASE("multiline start pattern with the json parser: the record is parsed as a whole", "[parse]") {
  auto d = driver_for({{"LOGFERRY_MULTILINE_START", "^\\{"}, {"LOGFERRY_PARSER", "json"}});
  d.feed(R"({"msg":"a",)");
  d.feed(R"( "n": 1})");
  d.feed(R"({"msg":"b"})");
  d.flush();
  REQUIRE(d.out.size() == 2);
  CHECK(render_entry(d.out[0].entry)["attr:n"] == "i:1");
  CHECK(d.bodies() == std::vector<std::string>{"a", "b"});
}

TEST_CASE("multiline records are cut at max lines and max bytes, no line lost", "[parse]") {
  SECTION("max lines") {
    auto d = driver_for({{"LOGFERRY_MULTILINE", "java"}, {"LOGFERRY_MULTILINE_MAX_LINES", "3"}});
    for (const char* l : {"head", "\tat a", "\tat b", "\tat c", "\tat d", "next"}) d.feed(l);
    d.flush();
    CHECK(d.bodies() == std::vector<std::string>{"head\n\tat a\n\tat b", "\tat c\n\tat d", "next"});
    CHECK(render_entry(d.out[0].entry)["attr:log.multiline.split"] == "b:true");
    CHECK(render_entry(d.out[1].entry).count("attr:log.multiline.split") == 0);
  }
  SECTION("max bytes") {
    auto d = driver_for({{"LOGFERRY_MULTILINE", "java"}, {"LOGFERRY_MULTILINE_MAX_BYTES", "1KiB"}});
    const std::string frame = "\tat " + std::string(400, 'x');
    d.feed("head");
    for (int i = 0; i < 3; ++i) d.feed(frame);
    d.flush();
    REQUIRE(d.out.size() == 2);
    CHECK(d.bodies()[0] == "head\n" + frame + "\n" + frame);
    CHECK(d.bodies()[1] == frame);
  }
}

TEST_CASE("multiline records joined from several lines are counted, single lines are not", "[parse]") {
  uint64_t joined = 0;
  ChainDriver d(make_parser_for(make_config({{"LOGFERRY_MULTILINE", "java"}, {"LOGFERRY_MULTILINE_MAX_LINES", "3"}}).parse,
                                "/var/log/app/x.log", &joined));
  // Records: "one" (1 line), "two" + 2 frames, a cut: "three" + 2 frames | 1 frame (2 joined
  // records), "four" (1 line, emitted by flush).
  for (const char* l : {"one", "two", "\tat a", "\tat b", "three", "\tat c", "\tat d", "\tat e", "four"}) d.feed(l);
  CHECK(joined == 2);
  d.flush();
  CHECK(d.out.size() == 5);
  CHECK(joined == 2);
  for (const char* l : {"five", "\tat f"}) d.feed(l);
  d.flush();
  CHECK(joined == 3);

  // CRI partial lines reassembled into one line are not multiline records.
  uint64_t cri_joined = 0;
  ChainDriver cri(make_parser_for(make_config({{"LOGFERRY_PARSER", "cri"}, {"LOGFERRY_MULTILINE", "java"}}).parse,
                                  "/var/log/app/x.log", &cri_joined));
  cri.feed("2024-01-02T15:04:05.000000001Z stdout P first ");
  cri.feed("2024-01-02T15:04:05.000000002Z stdout F half");
  cri.feed("2024-01-02T15:04:06.000000000Z stdout F next");
  cri.flush();
  CHECK(cri.bodies() == std::vector<std::string>{"first half", "next"});
  CHECK(cri_joined == 0);
}

TEST_CASE("multiline flush emits the held record once, then nothing", "[parse]") {
  auto chain = make_parser_for(make_config({{"LOGFERRY_MULTILINE", "java"}}).parse, "/var/log/app/x.log");
  v1::Entry e;
  CHECK(chain->flush(e) == ParseResult::pending);
  CHECK(chain->parse("only line", e) == ParseResult::pending);
  v1::Entry out;
  CHECK(chain->flush(out) == ParseResult::parsed);
  CHECK(out.body().string_value() == "only line");
  v1::Entry again;
  CHECK(chain->flush(again) == ParseResult::pending);
  const Config defaults = make_config();
  CHECK(ParseStage(defaults.parse).flush_timeout() == std::chrono::seconds(1));
  const Config quick = make_config({{"LOGFERRY_MULTILINE_TIMEOUT", "250ms"}});
  CHECK(ParseStage(quick.parse).flush_timeout() == std::chrono::milliseconds(250));
}

TEST_CASE("cri partial lines are reassembled before multiline grouping", "[parse]") {
  const std::string t1 = "2024-01-02T15:04:05.123456789Z";
  const std::string t2 = "2024-01-02T15:04:06Z";
  auto d = driver_for({{"LOGFERRY_PARSER", "cri"}, {"LOGFERRY_MULTILINE", "java"}});
  CHECK(d.feed(t1 + " stdout F 2024-01-02 ERROR request failed") == ParseResult::pending);
  CHECK(d.feed(t2 + " stdout P java.lang.IllegalStateException: bo") == ParseResult::pending);
  CHECK(d.feed(t2 + " stderr P unrelated stderr ") == ParseResult::pending);  // other stream interleaved
  CHECK(d.feed(t2 + " stdout F om") == ParseResult::pending);
  CHECK(d.feed(t2 + " stdout F \tat com.example.App.handle(App.java:42)") == ParseResult::pending);
  CHECK(d.feed(t2 + " stdout F 2024-01-02 INFO next") == ParseResult::parsed_holding_line);
  CHECK(d.feed(t2 + " stderr F partial") == ParseResult::parsed_holding_line);
  d.flush();
  REQUIRE(d.out.size() == 3);
  CHECK(d.bodies()[0] ==
        "2024-01-02 ERROR request failed\njava.lang.IllegalStateException: boom\n\tat "
        "com.example.App.handle(App.java:42)");
  CHECK(d.out[0].entry.time_unix_nano() == 1704207845123456789ULL);
  CHECK(render_entry(d.out[0].entry)["attr:log.iostream"] == "s:stdout");
  CHECK(d.out[0].offset == 0);
  CHECK(d.bodies()[1] == "2024-01-02 INFO next");
  CHECK(d.bodies()[2] == "unrelated stderr partial");
  CHECK(render_entry(d.out[2].entry)["attr:log.iostream"] == "s:stderr");
}

TEST_CASE("cri and docker partial lines: reassembled, bounded, flushed", "[parse]") {
  SECTION("cri without multiline") {
    auto d = driver_for({{"LOGFERRY_PARSER", "cri"}});
    CHECK(d.feed("2024-01-02T15:04:05Z stdout P {\"msg\":\"split ") == ParseResult::pending);
    CHECK(d.feed("2024-01-02T15:04:06Z stdout P json\",") == ParseResult::pending);
    CHECK(d.feed("2024-01-02T15:04:07Z stdout F \"n\":2}") == ParseResult::parsed);
    REQUIRE(d.out.size() == 1);
    CHECK(d.bodies()[0] == "split json");
    CHECK(render_entry(d.out[0].entry)["attr:n"] == "i:2");
    CHECK(d.out[0].entry.time_unix_nano() == 1704207845000000000ULL);  // the first fragment's time
    CHECK(d.out[0].offset == 0);
  }
  SECTION("max bytes cuts the reassembled line") {
    auto d = driver_for({{"LOGFERRY_PARSER", "cri"}, {"LOGFERRY_MAX_LINE_BYTES", "64"}});
    const std::string chunk(40, 'a');
    d.feed("2024-01-02T15:04:05Z stdout P " + chunk);
    d.feed("2024-01-02T15:04:05Z stdout P " + chunk);
    d.feed("2024-01-02T15:04:05Z stdout F " + chunk);
    REQUIRE(d.out.size() == 1);
    CHECK(d.bodies()[0] == std::string(64, 'a'));
    CHECK(render_entry(d.out[0].entry)["attr:log.truncated"] == "b:true");
  }
  SECTION("a partial line is flushed after the timeout") {
    auto d = driver_for({{"LOGFERRY_PARSER", "docker"}});
    d.feed(R"({"log":"no newline yet","stream":"stdout","time":"2024-01-02T15:04:05Z"})");
    CHECK(d.out.empty());
    d.flush();
    REQUIRE(d.out.size() == 1);
    CHECK(d.bodies()[0] == "no newline yet");
  }
  SECTION("docker partials") {
    auto d = driver_for({{"LOGFERRY_PARSER", "docker"}});
    d.feed(R"({"log":"first half ","stream":"stdout","time":"2024-01-02T15:04:05Z"})");
    d.feed(R"({"log":"second half\n","stream":"stdout","time":"2024-01-02T15:04:06Z"})");
    CHECK(d.bodies() == std::vector<std::string>{"first half second half"});
  }
}

TEST_CASE("filters: LOGFERRY_DROP and LOGFERRY_MIN_SEVERITY", "[parse]") {
  SECTION("drop pattern") {
    auto d = driver_for({{"LOGFERRY_DROP", "GET /healthz"}});
    CHECK(d.feed("GET /healthz 200") == ParseResult::dropped);
    CHECK(d.feed("GET /orders 200") == ParseResult::parsed);
    CHECK(d.dropped == 1);
    CHECK(d.bodies() == std::vector<std::string>{"GET /orders 200"});
  }
  SECTION("min severity: known severities below are dropped, unknown kept") {
    auto d = driver_for({{"LOGFERRY_PARSER", "json"}, {"LOGFERRY_MIN_SEVERITY", "warn"}});
    CHECK(d.feed(R"({"level":"debug","msg":"a"})") == ParseResult::dropped);
    CHECK(d.feed(R"({"level":"error","msg":"b"})") == ParseResult::parsed);
    CHECK(d.feed(R"({"msg":"c"})") == ParseResult::parsed);
    CHECK(d.feed("not json") == ParseResult::parse_error);
    CHECK(d.bodies() == std::vector<std::string>{"b", "c", "not json"});
  }
  SECTION("min severity with multiline: a dropped held record leaves the line held") {
    auto d = driver_for({{"LOGFERRY_PARSER", "logfmt"},
                         {"LOGFERRY_MULTILINE_START", "^level="},
                         {"LOGFERRY_MIN_SEVERITY", "info"}});
    CHECK(d.feed("level=debug msg=noise") == ParseResult::pending);
    CHECK(d.feed("level=error msg=kept") == ParseResult::pending);
    CHECK(d.feed("level=debug msg=noise2") == ParseResult::parsed_holding_line);
    d.flush();
    CHECK(d.bodies() == std::vector<std::string>{"kept"});
  }
}
