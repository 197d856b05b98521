#include "aggregator/stored_line.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

// Lines as any writer (or damage) may leave them, not only as append_entry_line
// writes them (stored_line_test.cpp).

using namespace logferry;
using namespace logferry::aggregator;

namespace {

constexpr std::string_view kValid =
    R"({"source_id":"s","offset":7,"source_path":"/p","time_unix_nano":1,"observed_time_unix_nano":2,)"
    R"("severity_number":9,"severity_text":"INFO","body":"hi","attributes":{"a":1},"resource":{"k":"v"}})";

std::string replaced(std::string_view line, std::string_view from, std::string_view to) {
  std::string out(line);
  const size_t at = out.find(from);
  REQUIRE(at != std::string::npos);
  out.replace(at, from.size(), to);
  return out;
}

std::string with_members(std::string_view members) { return replaced(kValid, "}}", "}" + std::string(members) + "}"); }

std::string nested_arrays(size_t n) { return std::string(n, '[') + "1" + std::string(n, ']'); }

}  // namespace

TEST_CASE("a damaged line is refused", "[aggregator]") {
  StoredLineParser parser;
  StoredLine back;
  REQUIRE(parser.parse(kValid, back));
  for (const std::string_view member :
       {R"("source_id":"s",)", R"("offset":7,)", R"("source_path":"/p",)", R"("time_unix_nano":1,)",
        R"("observed_time_unix_nano":2,)", R"("severity_number":9,)", R"("severity_text":"INFO",)", R"("body":"hi",)",
        R"("attributes":{"a":1},)", R"(,"resource":{"k":"v"})"}) {
    INFO("without " << member);
    CHECK_FALSE(parser.parse(replaced(kValid, member, ""), back));
  }
  const std::vector<std::pair<std::string, std::string>> damaged = {
      {"empty", ""},
      {"not JSON", "hello"},
      {"an array", "[1,2]"},
      {"an empty object", "{}"},
      {"trailing bytes", std::string(kValid) + "x"},
      {"two objects", std::string(kValid) + "{}"},
      {"invalid UTF-8", replaced(kValid, "\"hi\"", "\"\xC3\x28\"")},
      {"offset a string", replaced(kValid, "\"offset\":7", "\"offset\":\"7\"")},
      {"offset negative", replaced(kValid, "\"offset\":7", "\"offset\":-7")},
      {"offset fractional", replaced(kValid, "\"offset\":7", "\"offset\":7.5")},
      {"offset beyond uint64", replaced(kValid, "\"offset\":7", "\"offset\":18446744073709551616")},
      {"offset twice", replaced(kValid, "\"offset\":7", "\"offset\":7,\"offset\":8")},
      {"severity beyond int32", replaced(kValid, "\"severity_number\":9", "\"severity_number\":2147483648")},
      {"severity_text null", replaced(kValid, "\"INFO\"", "null")},
      {"attributes an array", replaced(kValid, "{\"a\":1}", "[1]")},
      {"resource a string", replaced(kValid, "{\"k\":\"v\"}", "\"k\"")},
      {"flags beyond uint32", with_members(",\"flags\":4294967296")},
      {"trace_id of odd length", with_members(",\"trace_id\":\"abc\"")},
      {"trace_id not hex", with_members(",\"trace_id\":\"zz\"")},
      {"span_id a number", with_members(",\"span_id\":12")},
      {"nested beyond simdjson's limit", replaced(kValid, "\"hi\"", std::string(5000, '[') + std::string(5000, ']'))},
      {"nested beyond protobuf's limit", replaced(kValid, "\"hi\"", nested_arrays(50))},
      {"a resource nested beyond it", replaced(kValid, "{\"k\":\"v\"}", "{\"k\":" + nested_arrays(49) + "}")},
  };
  for (const auto& [what, line] : damaged) {
    INFO(what);
    CHECK_FALSE(parser.parse(line, back));
  }
}

TEST_CASE("a line in other spacing, order, version or numbers is read", "[aggregator]") {
  StoredLineParser parser;
  StoredLine back;
  const std::vector<std::pair<std::string, std::string>> valid = {
      {"flags at their maximum", with_members(",\"flags\":4294967295")},
      {"uppercase hex", with_members(",\"trace_id\":\"0A\"")},
      {"a member of a later version", with_members(",\"later\":{\"x\":[1,{}]}")},
      {"nested as deep as protobuf allows", replaced(kValid, "\"hi\"", nested_arrays(49))},
      {"a resource as deep as a Source allows", replaced(kValid, "{\"k\":\"v\"}", "{\"k\":" + nested_arrays(48) + "}")},
  };
  for (const auto& [what, line] : valid) {
    INFO(what);
    CHECK(parser.parse(line, back));
  }

  // Members in any order and spacing; the resource is kept exactly as written.
  const std::string spaced = R"({ "body" : "}\"{,[" ,)" "\n"
                             R"("source_id":"s","offset":7,"source_path":"/p","time_unix_nano":1,)"
                             R"("observed_time_unix_nano":2,"severity_number":9,"severity_text":"INFO",)"
                             R"("attributes" : { "a" : [ 1 , { } ] },"resource" :)" "\t"
                             R"({ "k" : "v" , "n" : [ 1 ] })" "\r\n"
                             R"(, "span_id" : "00ff" })";
  REQUIRE(parser.parse(spaced, back));
  CHECK(back.resource_json == R"({ "k" : "v" , "n" : [ 1 ] })");
  CHECK(back.entry.body().string_value() == "}\"{,[");
  CHECK(back.entry.span_id() == std::string("\x00\xff", 2));

  const auto body_of = [&](std::string_view json) {
    REQUIRE(parser.parse(replaced(kValid, "\"hi\"", json), back));
    return back.entry.body();
  };
  CHECK(body_of("2").value_case() == v1::AnyValue::kIntValue);
  CHECK(body_of("-9223372036854775808").int_value() == std::numeric_limits<int64_t>::min());
  CHECK(body_of("2.0").value_case() == v1::AnyValue::kDoubleValue);
  CHECK(body_of("1e2").double_value() == 100.0);
  CHECK(body_of("18446744073709551615").double_value() == 18446744073709551615.0);  // beyond int64
}

TEST_CASE("what is read within the nesting limit can be sent in a Batch again, one level more cannot",
          "[aggregator]") {
  StoredLineParser parser;
  StoredLine back;
  REQUIRE(parser.parse(replaced(kValid, "\"hi\"", nested_arrays(49)), back));
  v1::Batch batch;
  *batch.add_entries() = back.entry;
  CHECK(v1::Batch().ParseFromString(batch.SerializeAsString()));
  v1::AnyValue deeper;
  *deeper.mutable_array_value()->add_values() = back.entry.body();
  *batch.mutable_entries(0)->mutable_body() = deeper;
  CHECK_FALSE(v1::Batch().ParseFromString(batch.SerializeAsString()));

  v1::Batch sources;
  REQUIRE(parser.parse_key_values("{\"k\":" + nested_arrays(48) + "}", *sources.add_sources()->mutable_resource()));
  CHECK(v1::Batch().ParseFromString(sources.SerializeAsString()));
  v1::AnyValue& value = *sources.mutable_sources(0)->mutable_resource(0)->mutable_value();
  v1::AnyValue wrapped;
  *wrapped.mutable_array_value()->add_values() = value;
  value = wrapped;
  CHECK_FALSE(v1::Batch().ParseFromString(sources.SerializeAsString()));
}
