#include "aggregator/entry_json.hpp"

#include <charconv>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "support/entry_line_oracle.hpp"

using namespace logferry;
using namespace logferry::aggregator;

namespace {

std::string json_of(const v1::AnyValue& v) {
  std::string out;
  append_any_value_json(out, v);
  return out;
}

}  // namespace

TEST_CASE("every AnyValue kind renders as JSON", "[aggregator]") {
  v1::AnyValue v;
  CHECK(json_of(v) == "null");
  v.set_string_value("he said \"hi\"\n");
  CHECK(json_of(v) == R"("he said \"hi\"\n")");
  v.set_bool_value(true);
  CHECK(json_of(v) == "true");
  v.set_int_value(-42);
  CHECK(json_of(v) == "-42");
  v.set_double_value(1.5);
  CHECK(json_of(v) == "1.5");
  v.set_double_value(std::numeric_limits<double>::infinity());
  CHECK(json_of(v) == "\"Infinity\"");
  v.set_double_value(std::numeric_limits<double>::quiet_NaN());
  CHECK(json_of(v) == "\"NaN\"");
  v.set_bytes_value(std::string("\x00\xff\x10hi", 5));
  CHECK(json_of(v) == "\"AP8QaGk=\"");

  v1::AnyValue arr;
  arr.mutable_array_value()->add_values()->set_int_value(1);
  arr.mutable_array_value()->add_values()->set_string_value("x");
  arr.mutable_array_value()->add_values();
  CHECK(json_of(arr) == R"([1,"x",null])");

  v1::AnyValue obj;
  auto* kv = obj.mutable_kvlist_value()->add_values();
  kv->set_key("inner");
  *kv->mutable_value() = arr;
  auto* kv2 = obj.mutable_kvlist_value()->add_values();
  kv2->set_key("ok");
  kv2->mutable_value()->set_bool_value(false);
  CHECK(json_of(obj) == R"({"inner":[1,"x",null],"ok":false})");
}

TEST_CASE("base64 pads and hex is lowercase", "[aggregator]") {
  std::string out;
  append_base64(out, "");
  CHECK(out.empty());
  append_base64(out, "f");
  CHECK(out == "Zg==");
  out.clear();
  append_base64(out, "fo");
  CHECK(out == "Zm8=");
  out.clear();
  append_base64(out, "foobar");
  CHECK(out == "Zm9vYmFy");
  out.clear();
  append_hex(out, std::string("\x0a\xBC\xff", 3));
  CHECK(out == "0abcff");
}

TEST_CASE("an entry renders as one line starting with its key", "[aggregator]") {
  v1::Entry e;
  e.set_offset(1234);
  e.set_time_unix_nano(1700000000000000001ull);
  e.set_observed_time_unix_nano(1700000000000000002ull);
  e.set_severity_number(9);
  e.set_severity_text("INFO");
  e.mutable_body()->set_string_value("bad \xC3\x28 utf8");
  auto* a = e.add_attributes();
  a->set_key("n");
  a->mutable_value()->set_int_value(7);
  e.set_trace_id(std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\xff", 16));
  e.set_span_id(std::string("\xAB\xCD\xEF\x00\x01\x02\x03\x04", 8));
  std::string out;
  test::append_entry_line(out, e, LineContext{"\"file:1:2\"", "\"/var/log/a.log\"", "{\"k8s.pod.name\":\"web-0\"}"});
  CHECK(out ==
        "{\"source_id\":\"file:1:2\",\"offset\":1234,\"source_path\":\"/var/log/a.log\","
        "\"time_unix_nano\":1700000000000000001,\"observed_time_unix_nano\":1700000000000000002,"
        "\"severity_number\":9,\"severity_text\":\"INFO\",\"body\":\"bad \xEF\xBF\xBD( utf8\","
        "\"attributes\":{\"n\":7},\"resource\":{\"k8s.pod.name\":\"web-0\"},"
        "\"trace_id\":\"0102030405060708090a0b0c0d0e0fff\",\"span_id\":\"abcdef0001020304\"}\n");

  LineKey key;
  REQUIRE(parse_line_key(out, key));
  CHECK(key.source_id_json == "\"file:1:2\"");
  CHECK(key.offset == 1234);
}

TEST_CASE("ids are omitted when unset and keys with escapes parse back", "[aggregator]") {
  v1::Entry e;
  e.set_offset(5);
  std::string out;
  test::append_entry_line(out, e, LineContext{R"("a\"b\\")", "\"p\"", "{}"});
  CHECK(out.find("trace_id") == std::string::npos);
  CHECK(out.find("span_id") == std::string::npos);
  CHECK(out.find("\"body\":null") != std::string::npos);
  LineKey key;
  REQUIRE(parse_line_key(out, key));
  CHECK(key.source_id_json == R"("a\"b\\")");
  CHECK(key.offset == 5);
  CHECK_FALSE(parse_line_key("{\"source_id\":\"x\",\"offset\":}", key));
  CHECK_FALSE(parse_line_key("{\"source_id\":\"unterminated", key));
  CHECK_FALSE(parse_line_key("garbage", key));
}

TEST_CASE("numbers are written as std::to_chars writes them", "[aggregator]") {
  std::vector<uint64_t> values = {0, 9, 10, 99, 100, 101, 99999999, 100000000, 100000001, 1700000000000000001ull,
                                  std::numeric_limits<uint64_t>::max()};
  for (uint64_t p = 1; p <= 10000000000000000000ull / 10; p *= 10) values.insert(values.end(), {p - 1, p, p + 1, p * 10 - 1});
  std::mt19937_64 rng(1);
  for (int i = 0; i < 10000; ++i) values.push_back(rng() >> (rng() % 64));
  for (const uint64_t v : values) {
    char buf[24];
    std::string out;
    append_uint(out, v);
    CHECK(out == std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr));
    out.clear();
    append_int(out, -static_cast<int64_t>(v >> 1));
    CHECK(out == std::string(buf, std::to_chars(buf, buf + sizeof buf, -static_cast<int64_t>(v >> 1)).ptr));
  }
}
