// Parser::encode, the per-line fast path: its bytes must decode to the entry
// parse() fills, and it must decline (writing nothing) where only parse()
// knows the answer. The table in parser_cases_test.cpp checks every case the
// same way; this file adds generated lines and the declines.
#include <random>
#include <string>

#include "tests/unit/parse/parser_cases.hpp"

using namespace logferry;
using namespace logferry::test;

namespace {

// Runs `line` through encode() and parse() on fresh chains; true when encode()
// wrote it (then the two must agree), false when it declined.
bool encoded_same(const Config& config, const std::string& line) {
  INFO("line: " << line);
  const auto slow = make_parser_for(config.parse, "/var/log/app/x.log");
  const auto fast = make_parser_for(config.parse, "/var/log/app/x.log");
  v1::Entry want;
  const ParseResult r = slow->parse(line, want);
  WireBuffer wire;
  if (!fast->encode(line, wire)) {
    CHECK(wire.empty());
    return false;
  }
  CHECK(r == ParseResult::parsed);
  v1::Entry got;
  REQUIRE(got.ParseFromArray(wire.data(), static_cast<int>(wire.size())));
  CHECK(got.SerializeAsString() == want.SerializeAsString());
  return true;
}

// Deterministic random JSON: every value kind, unicode and escapes, long
// strings (multi-byte lengths), deep nesting (beyond the depth kept as
// structure), well-known fields with good and bad values.
class JsonGen {
 public:
  explicit JsonGen(uint32_t seed) : rng_(seed) {}

  std::string object(int depth) {
    std::string out = "{";
    const int n = pick(0, depth == 0 ? 12 : 4);
    for (int i = 0; i < n; ++i) {
      if (i) out += ',';
      out += key(depth) + ":" + value(depth + 1);
    }
    return out + "}";
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  std::string key(int depth) {
    static const char* kKeys[] = {"msg", "message", "level", "severity", "time", "ts", "trace_id", "span_id",
                                  "traceparent", "trace_flags", "user", "n", "", "k\\u00e9y", "a.b", "x"};
    if (depth > 0 || pick(0, 2) == 0) return "\"f" + std::to_string(counter_++) + "\"";
    return std::string("\"") + kKeys[pick(0, 15)] + "\"";
  }

  std::string value(int depth) {
    static const char* kScalars[] = {
        "0", "-0", "-1", "42", "9223372036854775807", "-9223372036854775808", "18446744073709551615",
        "123456789012345678901234567890", "1.5", "-0.0", "1e308", "1e999", "true", "false", "null",
        "\"info\"", "\"WARN\"", "\"\"", "\"2024-01-02T15:04:05.123Z\"", "1704207845", "1704207845.5",
        "\"4bf92f3577b34da6a3ce929d0e0e4736\"", "\"00f067aa0ba902b7\"", "\"01\"", "\"zz\"",
        "\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\"", "\"tab\\t \\\"q\\\" \\u00e9 \\ud83d\\ude00\"",
        "\"h\xC3\xA9llo \xE2\x82\xAC\"", "17", "3"};
    const int kind = pick(0, 9);
    if (kind == 0 && depth < 40) return object(depth);
    if (kind == 1 && depth < 40) {
      std::string out = "[";
      const int n = pick(0, 4);
      for (int i = 0; i < n; ++i) out += (i ? "," : "") + value(depth + 1);
      return out + "]";
    }
    if (kind == 2) return "\"" + std::string(static_cast<size_t>(pick(100, 20000)), 'w') + "\"";
    return kScalars[pick(0, 29)];
  }

  std::mt19937 rng_;
  int counter_ = 0;
};

}  // namespace

TEST_CASE("json encode: generated lines decode to the entry parse() fills", "[parse][encode]") {
  const Config config = make_config({{"LOGFERRY_PARSER", "json"}});
  JsonGen gen(20261126);
  int encoded = 0, declined = 0;
  for (int i = 0; i < 3000; ++i) (encoded_same(config, gen.object(0)) ? encoded : declined) += 1;
  // Generated keys repeat at times (duplicates are declined); most lines take the fast path.
  CHECK(encoded > 1500);
  CHECK(declined > 0);
}

TEST_CASE("json encode: deep nesting beyond the kept depth becomes text, as in parse()", "[parse][encode]") {
  const Config config = make_config({{"LOGFERRY_PARSER", "json"}});
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += R"({"d":[)";
  deep += "1";
  for (int i = 0; i < 40; ++i) deep += "]}";
  CHECK(encoded_same(config, R"({"msg":"deep","x":)" + deep + "}"));
  CHECK(encoded_same(config, R"({"msg":)" + deep + "}"));
}

TEST_CASE("json encode declines where parse() decides", "[parse][encode]") {
  const Config config = make_config({{"LOGFERRY_PARSER", "json"}});
  CHECK_FALSE(encoded_same(config, R"({"a":1,"b":2,"a":3})"));         // duplicate: the last wins
  CHECK_FALSE(encoded_same(config, R"({"msg":"one","msg":"two"})"));  // duplicate message field
  CHECK_FALSE(encoded_same(config, R"({"broken":)"));                 // parse error
  CHECK_FALSE(encoded_same(config, "[1,2]"));                          // not an object
  CHECK_FALSE(encoded_same(config, ""));
  CHECK_FALSE(encoded_same(config, R"({"a":1} x)"));                   // trailing content
  CHECK_FALSE(encoded_same(config, R"({"a":1}{"b":2})"));
  CHECK_FALSE(encoded_same(config, R"({"a":[1,2})"));
  CHECK_FALSE(encoded_same(config, R"({"a":tru})"));
  CHECK_FALSE(encoded_same(config, R"({"a":"\x"})"));                 // invalid escape
  CHECK_FALSE(encoded_same(config, "{\"a\":\"\x01\"}"));           // unescaped control byte
  CHECK(encoded_same(config, R"({"a":1e999,"b":123456789012345678901})"));  // beyond double/uint64: text
  CHECK(encoded_same(config, R"({"a":1} )"));                          // trailing blanks are fine
  CHECK(encoded_same(config, R"({"e":"\u00e9\ud83d\ude00","k\"q":"x","n":-0,"z":-0.0,"u":18446744073709551615})"));
  CHECK(encoded_same(config, R"({"msg":"one","message":"two","level":"info","severity":"bad level text that is far too long"})"));
  CHECK(encoded_same(config, R"({"big":123456789012345678901234567890,"msg":"huge number"})"));
}

TEST_CASE("plain encode: valid, invalid UTF-8 and long lines", "[parse][encode]") {
  const Config config = make_config({{"LOGFERRY_PARSER", "plain"}});
  CHECK(encoded_same(config, "hello"));
  CHECK(encoded_same(config, ""));
  CHECK(encoded_same(config, "a\xFF" "b\xC3 \xE2\x82\xAC"));
  CHECK(encoded_same(config, std::string(70000, 'p')));
}

TEST_CASE("chains that hold state or filter never take the fast path", "[parse][encode]") {
  for (const Environment& env : {Environment{{"LOGFERRY_PARSER", "json"}, {"LOGFERRY_MULTILINE", "java"}},
                                 Environment{{"LOGFERRY_PARSER", "plain"}, {"LOGFERRY_DROP", "debug"}},
                                 Environment{{"LOGFERRY_PARSER", "json"}, {"LOGFERRY_MIN_SEVERITY", "info"}},
                                 Environment{{"LOGFERRY_PARSER", "cri"}}}) {
    const Config config = make_config(env);
    CHECK_FALSE(encoded_same(config, R"({"msg":"x","level":"info"})"));
  }
}
