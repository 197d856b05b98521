#include "aggregator/wire_json.hpp"

#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "aggregator/wire_scan.hpp"
#include "sidecar/core/json_escape.hpp"
#include "wire_oracle.hpp"

using namespace logferry;
using namespace logferry::aggregator;
using namespace logferry::aggregator::wire_test;

namespace {

std::string tree_json(std::string_view bytes) {
  v1::AnyValue v;
  REQUIRE(v.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  std::string out;
  append_any_value_json(out, v);
  return out;
}

std::string wire_json(std::string_view bytes) {
  WireJson json;
  std::string out;
  if (!json.any_value(out, bytes, kWireMaxDepth)) return "invalid";
  return out;
}

// Does protobuf accept `s` in a string field?
bool protobuf_accepts_string(std::string_view s) {
  google::protobuf::LogSilencer quiet;
  const std::string kv = field_bytes(1, s);
  v1::KeyValue parsed;
  return parsed.ParseFromArray(kv.data(), static_cast<int>(kv.size()));
}

}  // namespace

TEST_CASE("string fields are checked for UTF-8 exactly as protobuf checks them", "[aggregator]") {
  int checked = 0;
  const auto agree = [&](const std::string& s) {
    INFO("bytes " << hex(s));
    CHECK(is_valid_utf8(s) == protobuf_accepts_string(s));
    ++checked;
  };
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) agree({static_cast<char>(a), static_cast<char>(b)});
  }
  for (int a = 0xE0; a < 0x100; ++a) {
    for (int b = 0x70; b < 0xD0; ++b) {
      for (const int c : {0x7F, 0x80, 0xBF, 0xC0}) {
        agree({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
        agree({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c), '\x80'});
        agree({static_cast<char>(a), static_cast<char>(b), '\x80', static_cast<char>(c)});
      }
    }
  }
  // Past the eight-byte ASCII fast path, and truncated at the end.
  agree("0123456789abcdef\xC3\xA9xyz");
  agree("0123456789abcdefghi\xF0\x9F\x98\x80");
  agree("0123456789abcdefghi\xF0\x9F\x98");
  agree("0123456\xED\xA0\x80" "0123456789");
  CHECK(checked > 65536);
}

TEST_CASE("AnyValues render from wire bytes as from the message", "[aggregator]") {
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    v1::AnyValue v;
    random_value(rng, v, 4);
    const std::string bytes = v.SerializeAsString();
    INFO("value bytes " << hex(bytes));
    CHECK(validate_any_value(bytes, kWireMaxDepth));
    CHECK(wire_json(bytes) == tree_json(bytes));
  }
  CHECK(wire_json("") == "null");
}

TEST_CASE("AnyValue fields merge as protobuf merges them", "[aggregator]") {
  const std::string a1 = field_bytes(1, field_varint(3, 1));  // ArrayValue [1]
  const std::string a2 = field_bytes(1, field_bytes(1, "x")) + field_bytes(1, "");  // ["x", null]
  const std::string kv1 = field_bytes(1, field_bytes(1, "k") + field_bytes(2, field_varint(2, 1)));
  const std::string kv2 = field_bytes(1, field_bytes(1, "j"));
  const std::vector<std::string> cases = {
      field_bytes(5, a1) + field_bytes(5, a2),                            // an array split in two
      field_bytes(5, a1) + field_bytes(1, "s") + field_bytes(5, a2),      // a string in between resets it
      field_bytes(6, kv1) + field_varint(9, 1) + field_bytes(6, kv2),     // a kvlist split around an unknown field
      field_bytes(6, kv1) + field_bytes(5, a1) + field_bytes(6, kv2) + field_bytes(6, kv1),
      field_bytes(1, "a") + field_bytes(1, "b"),                           // the last string wins
      field_varint(3, 5) + field_varint(2, 0),                             // the last case wins
      field_varint(2, uint64_t{1} << 40),                                  // bool from a 64-bit varint
      field_varint(3, ~uint64_t{0}),                                       // int64 -1
      field_fixed(4, 0x8000000000000000ull, 8),                            // -0.0
      field_bytes(7, "\x01\x02\x03") + field_bytes(7, ""),                 // empty bytes
      field_varint(1, 5) + field_fixed(2, 1, 4) + field_bytes(3, "x"),     // wrong wire types: unknown
      tag(5, 3) + field_varint(1, 1) + tag(5, 4),                          // a group: unknown
      field_bytes(6, field_bytes(1, field_bytes(2, field_bytes(1, "v")) + field_bytes(2, field_varint(3, 2)))),
      field_bytes(6, field_bytes(1, field_bytes(2, field_bytes(5, a1)) + field_bytes(2, field_bytes(5, a2)))),
  };
  for (const auto& bytes : cases) {
    INFO("value bytes " << hex(bytes));
    REQUIRE(validate_any_value(bytes, kWireMaxDepth));
    CHECK(wire_json(bytes) == tree_json(bytes));
  }
  CHECK(wire_json(cases[0]) == R"([1,"x",null])");
  CHECK(wire_json(cases[1]) == R"(["x",null])");
}

TEST_CASE("AnyValue validation refuses what protobuf refuses", "[aggregator]") {
  google::protobuf::LogSilencer quiet;
  std::mt19937 rng(11);
  int refused = 0;
  for (int i = 0; i < 4000; ++i) {
    v1::AnyValue v;
    random_value(rng, v, 3);
    std::string bytes = v.SerializeAsString();
    if (bytes.empty()) continue;
    const size_t at = rng() % bytes.size();
    switch (rng() % 3) {
      case 0: bytes[at] = static_cast<char>(rng()); break;
      case 1: bytes.resize(at); break;
      default: bytes.insert(at, 1, static_cast<char>(rng())); break;
    }
    v1::AnyValue parsed;
    const bool ok = parsed.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
    INFO("value bytes " << hex(bytes));
    REQUIRE(validate_any_value(bytes, kWireMaxDepth) == ok);
    if (ok) CHECK(wire_json(bytes) == tree_json(bytes));
    if (!ok) CHECK(wire_json(bytes) == "invalid");
    refused += ok ? 0 : 1;
  }
  CHECK(refused > 100);
}

TEST_CASE("a KeyValue renders as key:value, its value merged", "[aggregator]") {
  WireJson json;
  std::string out;
  CHECK(json.key_value(out, field_bytes(1, "a\"b") + field_bytes(2, field_bytes(5, field_bytes(1, field_varint(3, 1)))) +
                          field_bytes(1, "k") + field_bytes(2, field_bytes(5, field_bytes(1, field_varint(2, 1)))), kWireMaxDepth));
  CHECK(out == R"("k":[1,true])");
  out.clear();
  CHECK(json.key_value(out, "", kWireMaxDepth));
  CHECK(out == R"("":null)");
  CHECK(validate_key_value(field_bytes(1, "ok") + field_bytes(2, field_bytes(1, "fine")), kWireMaxDepth));
  CHECK_FALSE(validate_key_value(field_bytes(1, "\xC3\x28"), kWireMaxDepth));
  CHECK_FALSE(validate_key_value(field_bytes(2, field_bytes(1, "\xED\xA0\x80")), kWireMaxDepth));
  CHECK(validate_key_value(field_bytes(2, field_bytes(7, "\xC3\x28")), kWireMaxDepth));  // bytes are not checked
  out.clear();
  CHECK_FALSE(json.key_value(out, field_bytes(1, "\xC3\x28"), kWireMaxDepth));
  CHECK_FALSE(json.key_value(out, field_bytes(1, "a") + field_bytes(1, "\xC3\x28") + field_bytes(1, "b"), kWireMaxDepth));
  CHECK_FALSE(json.key_value(out, field_bytes(2, field_bytes(1, "\xFF")) + field_bytes(2, field_bytes(2, "")), kWireMaxDepth));
  json.check_utf8 = false;  // messages protobuf built: replacement characters, as append_json_string writes
  out.clear();
  CHECK(json.key_value(out, field_bytes(1, "\xC3\x28") + field_bytes(2, field_bytes(1, "\xFF")), kWireMaxDepth));
  CHECK(out == "\"\xEF\xBF\xBD(\":\"\xEF\xBF\xBD\"");
}

TEST_CASE("strings are escaped as append_json_string escapes them, at every length and position", "[aggregator]") {
  const std::string specials[] = {"\"", "\\", "\x1f", "\x7f", "\n", "\xC3\xA9", "\xF0\x9F\x98\x80", "\xFF", "\xC3"};
  for (size_t length = 0; length <= 70; ++length) {
    const std::string plain(length, 'x');
    std::string checked;
    REQUIRE(append_json_string_checked(checked, plain, ':'));
    std::string expected;
    append_json_string(expected, plain);
    CHECK(checked == expected + ":");
    for (size_t at = 0; at < length; ++at) {
      for (const auto& special : specials) {
        std::string s = plain;
        s.replace(at, 1, special);
        INFO("string " << hex(s));
        checked.clear();
        expected.clear();
        const bool ok = append_json_string_checked(checked, s);
        CHECK(ok == is_valid_utf8(s));
        append_json_string(expected, s);
        if (ok) CHECK(checked == expected);
        else CHECK(checked.empty());
      }
    }
  }
}
