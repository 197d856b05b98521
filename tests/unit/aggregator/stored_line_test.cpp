#include "aggregator/stored_line.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "aggregator/entry_json.hpp"
#include "sidecar/core/json_escape.hpp"
#include "support/entry_line_oracle.hpp"

using namespace logferry;
using namespace logferry::aggregator;

namespace {

using KeyValues = google::protobuf::RepeatedPtrField<v1::KeyValue>;

// Adds a member; its value is present even when null, as the parser makes it.
v1::AnyValue& add(KeyValues& kvs, const std::string& key) {
  v1::KeyValue* kv = kvs.Add();
  kv->set_key(key);
  return *kv->mutable_value();
}

std::string bytes_of(const KeyValues& kvs) {
  v1::KeyValueList list;
  *list.mutable_values() = kvs;
  return list.SerializeAsString();
}

const std::string kUnicode = "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80";
const std::string kEscapes = std::string("quote \" backslash \\ slash / nl \n cr \r tab \t ctl \x01\x1f del \x7f") +
                             " ls \xE2\x80\xA8 nul " + '\0' + " </script>";

v1::AnyValue every_kind() {
  v1::AnyValue v;
  KeyValues& kvs = *v.mutable_kvlist_value()->mutable_values();
  add(kvs, "string").set_string_value(kUnicode);
  add(kvs, "escapes").set_string_value(kEscapes);
  add(kvs, "int").set_int_value(-42);
  add(kvs, "int64 min").set_int_value(std::numeric_limits<int64_t>::min());
  add(kvs, "double").set_double_value(1.5);
  add(kvs, "small").set_double_value(-2.25e-7);
  add(kvs, "huge").set_double_value(1e300);
  add(kvs, "bool").set_bool_value(true);
  add(kvs, "null");
  v1::ArrayValue& array = *add(kvs, "array").mutable_array_value();
  array.add_values()->set_string_value("");
  array.add_values();                          // null
  array.add_values()->mutable_array_value();   // []
  array.add_values()->mutable_kvlist_value();  // {}
  add(*add(kvs, "nested").mutable_kvlist_value()->mutable_values(), "deeper").set_double_value(0.1);
  add(kvs, "");                                   // an empty key, a null value
  add(kvs, "int").set_int_value(7);               // a duplicate key is kept
  add(kvs, kUnicode).set_string_value(kEscapes);  // a key that needs UTF-8 and escapes
  return v;
}

v1::Entry full_entry() {
  v1::Entry e;
  e.set_offset(1234567890123);
  e.set_time_unix_nano(1700000000123456789ull);                          // 19 digits
  e.set_observed_time_unix_nano(std::numeric_limits<uint64_t>::max());  // 20 digits
  e.set_severity_number(17);
  e.set_severity_text("ERROR");
  *e.mutable_body() = every_kind();
  KeyValues& attributes = *e.mutable_attributes();
  add(attributes, "log.file.path").set_string_value("/var/log/app.log");
  add(attributes, "http.status").set_int_value(503);
  add(attributes, "missing");
  *add(attributes, "everything").mutable_kvlist_value() = every_kind().kvlist_value();
  e.set_flags(1);
  e.set_trace_id(std::string("\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 16));
  e.set_span_id(std::string("\xff\x00\x01\x02\x03\x04\x05\x06", 8));
  return e;
}

// Renders as the segment store does (strings escaped by append_json_string), without the '\n'.
std::string render(const v1::Entry& e, std::string_view id, std::string_view path, std::string_view resource_json) {
  std::string id_json, path_json, line;
  append_json_string(id_json, id);
  append_json_string(path_json, path);
  test::append_entry_line(line, e, LineContext{id_json, path_json, resource_json});
  line.pop_back();
  return line;
}

}  // namespace

TEST_CASE("a stored line reads back field by field and renders to the same bytes", "[aggregator]") {
  const v1::Entry original = full_entry();
  KeyValues resource;
  add(resource, "k8s.pod.name").set_string_value("web-0");
  add(resource, "k8s.namespace.name").set_string_value(kUnicode);
  add(resource, "replicas").set_int_value(3);
  std::string resource_json;
  append_key_values_json(resource_json, resource);
  const std::string id = "file:2049:131074:5f3a9c0d1e2b4a67";
  const std::string path = "/var/log/" + kUnicode + " \"quoted\".log";
  const std::string line = render(original, id, path, resource_json);

  StoredLineParser parser;
  StoredLine back;
  REQUIRE(parser.parse(line, back));
  CHECK(back.source_id == id);
  CHECK(back.source_path == path);
  CHECK(back.resource_json == resource_json);
  const v1::Entry& e = back.entry;
  CHECK(e.offset() == 1234567890123u);
  CHECK(e.time_unix_nano() == 1700000000123456789ull);
  CHECK(e.observed_time_unix_nano() == std::numeric_limits<uint64_t>::max());
  CHECK(e.severity_number() == 17);
  CHECK(e.severity_text() == "ERROR");
  CHECK(e.body().kvlist_value().values(1).value().string_value() == kEscapes);
  CHECK(e.body().SerializeAsString() == original.body().SerializeAsString());
  CHECK(bytes_of(e.attributes()) == bytes_of(original.attributes()));
  CHECK(e.flags() == 1u);
  CHECK(e.trace_id() == original.trace_id());
  CHECK(e.span_id() == original.span_id());
  CHECK(e.SerializeAsString() == original.SerializeAsString());
  CHECK(render(e, back.source_id, back.source_path, back.resource_json) == line);

  KeyValues kvs;
  REQUIRE(parser.parse_key_values(back.resource_json, kvs));
  CHECK(bytes_of(kvs) == bytes_of(resource));
  for (const std::string_view bad : {"[]", "{\"k\":", "", "{\"k\":\"\xC3\x28\"}"}) {
    CHECK_FALSE(parser.parse_key_values(bad, kvs));
    CHECK(kvs.empty());
  }
  for (size_t n = 0; n < line.size(); ++n) {  // a line cut short is refused, wherever the cut
    INFO("cut at " << n);
    CHECK_FALSE(parser.parse(std::string_view(line).substr(0, n), back));
  }
}

TEST_CASE("every body kind reads back; the store keeps no bytes type and no non-finite double", "[aggregator]") {
  StoredLineParser parser;
  StoredLine back;
  // Renders `body` (checking that it is stored as `stored`), reads the line back
  // and tells whether it renders to the same bytes again.
  const auto read_back = [&](const v1::AnyValue& body, std::string_view stored) {
    v1::Entry e;
    *e.mutable_body() = body;
    const std::string line = render(e, "s", "/p", "{}");
    if (!stored.empty()) {
      CHECK(line.find("\"body\":" + std::string(stored) + ",") != std::string::npos);
    }
    REQUIRE(parser.parse(line, back));
    return render(back.entry, "s", "/p", "{}") == line;
  };
  std::vector<v1::AnyValue> same(6);  // of every kind but null (below)
  same[0].set_string_value(kEscapes);
  same[1].set_int_value(-1);
  same[2].set_double_value(123456789.125);
  same[3].mutable_array_value()->add_values()->set_bool_value(false);
  same[4].mutable_kvlist_value();  // {}
  same[5] = every_kind();
  for (const v1::AnyValue& body : same) {
    CHECK(read_back(body, ""));
    CHECK(back.entry.body().SerializeAsString() == body.SerializeAsString());
  }
  v1::AnyValue v;
  v.set_bytes_value(std::string("\x00\xff\x10hi", 5));
  CHECK(read_back(v, "\"AP8QaGk=\""));
  CHECK(back.entry.body().string_value() == "AP8QaGk=");  // the base64 text
  v.set_double_value(std::numeric_limits<double>::quiet_NaN());
  CHECK(read_back(v, "\"NaN\""));
  CHECK(back.entry.body().string_value() == "NaN");
  v.set_double_value(-std::numeric_limits<double>::infinity());
  CHECK(read_back(v, "\"-Infinity\""));
  CHECK(back.entry.body().string_value() == "-Infinity");
  v.set_double_value(2.0);
  CHECK(read_back(v, "2"));
  CHECK(back.entry.body().int_value() == 2);
  v.set_double_value(-0.0);
  CHECK_FALSE(read_back(v, "-0"));  // rendered again as 0
  CHECK(back.entry.body().value_case() == v1::AnyValue::kIntValue);
  v.Clear();
  CHECK(read_back(v, "null"));
  CHECK_FALSE(back.entry.has_body());
}
