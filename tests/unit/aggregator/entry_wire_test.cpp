#include "aggregator/entry_wire.hpp"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "aggregator/wire_scan.hpp"
#include "wire_oracle.hpp"

using namespace logferry;
using namespace logferry::aggregator;
using namespace logferry::aggregator::wire_test;

namespace {

// The top-level fields of a message, each with its tag.
std::vector<std::string> split_fields(std::string_view message) {
  std::vector<std::string> out;
  WireScanner s(message);
  WireField f;
  for (size_t pos = 0; s.next(f); pos = s.position()) out.emplace_back(message.substr(pos, s.position() - pos));
  REQUIRE(s.ok());
  return out;
}

std::string joined(const std::vector<std::string>& fields) {
  std::string out;
  for (const auto& f : fields) out += f;
  return out;
}

}  // namespace

TEST_CASE("an entry renders from wire bytes in the tree renderer's order", "[aggregator]") {
  // The key fields first, attributes around the body, singular fields repeated.
  const std::string attr_n = field_bytes(1, "n") + field_bytes(2, field_varint(3, 7));
  const std::string attr_s = field_bytes(1, "s") + field_bytes(2, field_bytes(1, "v"));
  const std::string entry = field_varint(101, 99) + field_varint(100, 0) + field_fixed(11, 2, 8) +
                            field_bytes(6, attr_n) + field_varint(2, 9) + field_bytes(3, "WARN") +
                            field_bytes(5, field_bytes(1, "first body")) + field_bytes(6, attr_s) +
                            field_fixed(1, 1700000000000000001ull, 8) + field_bytes(3, "INFO") +
                            field_bytes(5, field_bytes(1, "bad \xC3\xA9 \"q\"")) + field_fixed(8, 1, 4) +
                            field_bytes(9, std::string("\x01\xff", 2)) + field_bytes(10, "") + field_varint(101, 1234);
  EntryKey key;
  REQUIRE(validate_entry(entry, kWireMaxDepth - 1, key));
  CHECK(key.source_index == 0);
  CHECK(key.offset == 1234);
  WireJson json;
  std::string out;
  REQUIRE(append_entry_line(out, entry, kContext, json));
  CHECK(out ==
        "{\"source_id\":\"file:1:2\",\"offset\":1234,\"source_path\":\"/var/log/a.log\","
        "\"time_unix_nano\":1700000000000000001,\"observed_time_unix_nano\":2,"
        "\"severity_number\":9,\"severity_text\":\"INFO\",\"body\":\"bad \xC3\xA9 \\\"q\\\"\","
        "\"attributes\":{\"n\":7,\"s\":\"v\"},\"resource\":{\"k8s.pod.name\":\"web-0\"},"
        "\"flags\":1,\"trace_id\":\"01ff\"}\n");
  CHECK(entry_same_as_tree(entry));
  // An empty entry: every field at its default.
  out.clear();
  REQUIRE(append_entry_line(out, "", kContext, json));
  CHECK(out == "{\"source_id\":\"file:1:2\",\"offset\":0,\"source_path\":\"/var/log/a.log\",\"time_unix_nano\":0,"
               "\"observed_time_unix_nano\":0,\"severity_number\":0,\"severity_text\":\"\",\"body\":null,"
               "\"attributes\":{},\"resource\":{\"k8s.pod.name\":\"web-0\"}}\n");
  CHECK(entry_same_as_tree(""));
}

TEST_CASE("entries with fields shuffled, repeated or split render as the tree does", "[aggregator]") {
  std::mt19937 rng(3);
  for (int i = 0; i < 1500; ++i) {
    v1::Entry e;
    random_entry(rng, e, 1);
    auto fields = split_fields(e.SerializeAsString());
    switch (i % 4) {
      case 0: std::shuffle(fields.begin(), fields.end(), rng); break;
      case 1:
        if (!fields.empty()) fields.push_back(fields[rng() % fields.size()]);  // a singular field given twice
        std::shuffle(fields.begin(), fields.end(), rng);
        break;
      case 2: {
        // The body split in two at a field boundary, the halves apart: protobuf merges them.
        if (!e.has_body()) break;
        const auto inner = split_fields(e.body().SerializeAsString());
        const size_t cut = inner.empty() ? 0 : rng() % inner.size();
        std::string first, second;
        for (size_t k = 0; k < inner.size(); ++k) (k < cut ? first : second) += inner[k];
        fields.insert(fields.begin(), field_bytes(5, first));
        fields.push_back(field_bytes(5, second));
        fields.erase(std::find(fields.begin(), fields.end(), field_bytes(5, e.body().SerializeAsString())));
        break;
      }
      default:
        fields.insert(fields.begin() + static_cast<long>(rng() % (fields.size() + 1)), field_fixed(7, rng(), 4));
        fields.push_back(field_varint(101, rng()));  // an offset appended after the parser's fields
        fields.push_back(tag(12, 3) + field_bytes(1, "x") + tag(12, 4));  // an unknown group
        break;
    }
    INFO("case " << i);
    CHECK(entry_same_as_tree(joined(fields)));
  }
}

TEST_CASE("many attributes interleaved with other fields render in order", "[aggregator]") {
  for (const int count : {15, 16, 17, 40}) {
    std::string entry;
    for (int i = 0; i < count; ++i) {
      entry += field_bytes(6, field_bytes(1, "k" + std::to_string(i)) + field_bytes(2, field_varint(3, i)));
      if (i % 5 == 0) entry += field_varint(101, i);
    }
    INFO("attributes " << count);
    CHECK(entry_same_as_tree(entry));
  }
}

TEST_CASE("known entry fields with another wire type are unknown fields", "[aggregator]") {
  const std::vector<std::string> cases = {
      field_varint(1, 5),  field_fixed(2, 9, 4), field_varint(3, 1),    field_varint(5, 1),
      field_fixed(6, 1, 8), field_varint(8, 1),  field_fixed(9, 1, 4),  field_bytes(11, "12345678"),
      field_bytes(100, "x"), field_fixed(101, 5, 8), tag(5, 3) + tag(5, 4), tag(6, 3) + field_varint(1, 1) + tag(6, 4),
  };
  for (const auto& c : cases) {
    INFO("entry bytes " << hex(c));
    CHECK(entry_same_as_tree(c + field_varint(101, 3)));
  }
}

TEST_CASE("entries protobuf refuses are refused", "[aggregator]") {
  const std::vector<std::string> refused = {
      field_bytes(3, "\xC3\x28"),                                               // severity_text not UTF-8
      field_bytes(5, field_bytes(1, "\xF4\x90\x80\x80")),                       // body string above U+10FFFF
      field_bytes(6, field_bytes(1, "\xE0\x80\xAF")),                           // attribute key overlong
      field_bytes(6, field_bytes(2, field_bytes(6, field_bytes(1, field_bytes(1, "\xED\xA0\x80"))))),
      field_bytes(5, field_bytes(5, field_bytes(1, field_bytes(1, "\xC0\x80")))),
      field_bytes(5, std::string("\x0a\x05hi", 4)),                             // a string past its message
      field_bytes(5, field_fixed(4, 1, 8).substr(0, 5)),                        // a double cut short
      field_bytes(6, tag(3, 3)),                                                // a group not ended
      tag(7, 4),                                                                // a stray end-group tag
  };
  for (const auto& c : refused) {
    INFO("entry bytes " << hex(c));
    EntryKey key;
    CHECK_FALSE(validate_entry(c, kWireMaxDepth - 1, key));
    WireJson json;
    std::string out;
    CHECK_FALSE(append_entry_line(out, c, kContext, json));
    CHECK_FALSE(entry_same_as_tree(c));
  }
  // Bytes fields carry anything.
  CHECK(entry_same_as_tree(field_bytes(9, "\xC3\x28") + field_bytes(5, field_bytes(7, "\xFF"))));
}
