#include "sidecar/parse/registry.hpp"

#include "tests/unit/parse/parser_cases.hpp"

using namespace logferry;
using namespace logferry::test;

namespace {

// The error messages load_config reports for the required variables plus `extra`.
std::vector<std::string> errors_for(const Environment& extra) {
  Environment env{{"LOGFERRY_OUTPUT", "tcp://127.0.0.1:1"},
                  {"LOGFERRY_FILES", "/var/log/app/*.log"},
                  {"LOGFERRY_CHECKPOINT_DIR",
                   (std::filesystem::temp_directory_path() / "logferry-parse-test").string()}};
  for (const auto& [k, v] : extra) env[k] = v;
  std::vector<std::string> out;
  for (const auto& e : load_config(env, parser_catalog()).errors) out.push_back(e.message);
  return out;
}

const std::string kNames = "plain, json, logfmt, regex, cri, docker, nginx, apache, syslog, klog, k8s-audit, auto";

}  // namespace

TEST_CASE("parser names: one explicit table", "[parse]") {
  CHECK(parser_names_text() == kNames);
  CHECK(is_parser_name("k8s-audit"));
  CHECK_FALSE(is_parser_name("xml"));
}

TEST_CASE("parsing variables: valid values", "[parse]") {
  const Config c = make_config({{"LOGFERRY_PARSER", "json"},
                                {"LOGFERRY_PARSERS", "/var/log/app/access.log=nginx; /var/log/app/*.json=json;/var/log/*=syslog"},
                                {"LOGFERRY_MIN_SEVERITY", "WARN"},
                                {"LOGFERRY_MESSAGE_FIELDS", "text"}});
  CHECK(parser_name_for(c.parse, "/var/log/app/access.log") == "nginx");
  CHECK(parser_name_for(c.parse, "/var/log/app/a.json") == "json");
  CHECK(parser_name_for(c.parse, "/var/log/messages") == "syslog");
  CHECK(parser_name_for(c.parse, "/srv/other.log") == "json");
  CHECK(c.parse.min_severity == 13);
  CHECK(make_parser_for(c.parse, "/var/log/app/access.log")->name() == "nginx");
  // The configured message field is used.
  v1::Entry e;
  make_parser_for(c.parse, "/srv/x.log")->parse(R"({"text":"t","msg":"m"})", e);
  CHECK(e.body().string_value() == "t");
  CHECK(make_config({{"LOGFERRY_MIN_SEVERITY", "17"}}).parse.min_severity == 17);
}

TEST_CASE("parsing variables: exact error texts", "[parse]") {
  CHECK(errors_for({{"LOGFERRY_PARSER", "xml"}}) ==
        std::vector<std::string>{"LOGFERRY_PARSER=\"xml\": expected one of: " + kNames});
  CHECK(errors_for({{"LOGFERRY_PARSERS", "/a/*.log"}}) ==
        std::vector<std::string>{
            "LOGFERRY_PARSERS=\"/a/*.log\": expected GLOB=PARSER pairs separated by ';', e.g. /var/log/app/*.json=json"});
  CHECK(errors_for({{"LOGFERRY_PARSERS", "/a/*.log=json;/b/*=xml"}}) ==
        std::vector<std::string>{"LOGFERRY_PARSERS=\"/a/*.log=json;/b/*=xml\": unknown parser \"xml\" for /b/*: "
                                 "expected one of: " + kNames});
  CHECK(errors_for({{"LOGFERRY_PARSER", "regex"}}) ==
        std::vector<std::string>{"LOGFERRY_REGEX=\"\": required by the regex parser: a pattern with named groups "
                                 "such as ^(?P<level>\\w+) (?P<msg>.*)$"});
  CHECK(errors_for({{"LOGFERRY_PARSERS", "/a/*=regex"}}).size() == 1);
  CHECK(errors_for({{"LOGFERRY_PARSER", "regex"}, {"LOGFERRY_REGEX", "(?P<a>x"}}) ==
        std::vector<std::string>{
            "LOGFERRY_REGEX=\"(?P<a>x\": not a valid RE2 regular expression: missing ): (?P<a>x"});
  CHECK(errors_for({{"LOGFERRY_MULTILINE_START", "[a-"}}) ==
        std::vector<std::string>{
            "LOGFERRY_MULTILINE_START=\"[a-\": not a valid RE2 regular expression: missing ]: [a-"});
  CHECK(errors_for({{"LOGFERRY_DROP", "*x"}}) ==
        std::vector<std::string>{
            "LOGFERRY_DROP=\"*x\": not a valid RE2 regular expression: no argument for repetition operator: *"});
  CHECK(errors_for({{"LOGFERRY_MULTILINE", "ruby"}}) ==
        std::vector<std::string>{"LOGFERRY_MULTILINE=\"ruby\": expected java, python or go"});
  CHECK(errors_for({{"LOGFERRY_MULTILINE", "java"}, {"LOGFERRY_MULTILINE_START", "^\\S"}}) ==
        std::vector<std::string>{"LOGFERRY_MULTILINE_START=\"^\\S\": set either LOGFERRY_MULTILINE (a preset) or "
                                 "LOGFERRY_MULTILINE_START, not both"});
  CHECK(errors_for({{"LOGFERRY_MULTILINE_MAX_LINES", "0"}}) ==
        std::vector<std::string>{"LOGFERRY_MULTILINE_MAX_LINES=\"0\": expected a whole number from 1 to 100000"});
  CHECK(errors_for({{"LOGFERRY_MULTILINE_TIMEOUT", "soon"}}) ==
        std::vector<std::string>{"LOGFERRY_MULTILINE_TIMEOUT=\"soon\": expected a duration such as 250ms, 5s or 2m"});
  CHECK(errors_for({{"LOGFERRY_MIN_SEVERITY", "loud"}}) ==
        std::vector<std::string>{
            "LOGFERRY_MIN_SEVERITY=\"loud\": expected trace, debug, info, warn, error, fatal or 1 to 24"});
  // All problems are reported at once.
  CHECK(errors_for({{"LOGFERRY_PARSER", "xml"}, {"LOGFERRY_DROP", "("}}).size() == 2);
}
