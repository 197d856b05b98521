#include "aggregator/wire_scan.hpp"

#include <string>

#include <catch2/catch.hpp>

#include "wire_oracle.hpp"

using namespace logferry::aggregator;
using namespace logferry::aggregator::wire_test;

namespace {

// The fields of `data` as (number, wire type) pairs, or "malformed".
std::string fields_of(std::string_view data, int depth = kWireMaxDepth) {
  WireScanner s(data, depth);
  WireField f;
  std::string out;
  while (s.next(f)) out += std::to_string(f.number) + "/" + std::to_string(f.wire_type) + " ";
  return s.ok() ? out : "malformed";
}

}  // namespace

TEST_CASE("the wire scanner reads every wire type", "[aggregator]") {
  const std::string data = field_varint(1, 300) + field_fixed(2, 0x1122334455667788ull, 8) +
                           field_fixed(3, 0xAABBCCDDu, 4) + field_bytes(4, "hi") + field_varint(536870911, 1);
  WireScanner s(data);
  WireField f;
  REQUIRE(s.next(f));
  CHECK((f.number == 1 && f.wire_type == 0 && f.varint == 300));
  REQUIRE(s.next(f));
  CHECK((f.number == 2 && f.wire_type == 1 && f.varint == 0x1122334455667788ull));
  REQUIRE(s.next(f));
  CHECK((f.number == 3 && f.wire_type == 5 && f.varint == 0xAABBCCDDu));
  REQUIRE(s.next(f));
  CHECK((f.number == 4 && f.wire_type == 2 && f.bytes == "hi"));
  CHECK(s.position() == data.size() - field_varint(536870911, 1).size());
  REQUIRE(s.next(f));
  CHECK(f.number == 536870911);
  CHECK_FALSE(s.next(f));
  CHECK(s.ok());
}

TEST_CASE("the wire scanner bounds tags, lengths and varints as protobuf does", "[aggregator]") {
  // A tag of five bytes is read modulo 2^32; six bytes are too many.
  CHECK(fields_of(std::string("\x88\x80\x80\x80\x70\x01", 6)) == "1/0 ");
  CHECK(fields_of(std::string("\x88\x80\x80\x80\x80\x00\x01", 7)) == "malformed");
  CHECK(fields_of(std::string("\x00", 1)) == "malformed");      // field 0
  CHECK(fields_of(std::string("\x02\x00", 2)) == "malformed");  // field 0, length-delimited
  // Lengths: at most five bytes, below 2 GiB, inside the input.
  CHECK(fields_of(std::string("\x0a\x82\x80\x80\x80\x00hi", 8)) == "1/2 ");
  CHECK(fields_of(std::string("\x0a\x82\x80\x80\x80\x80\x00hi", 9)) == "malformed");
  CHECK(fields_of(std::string("\x0a\x80\x80\x80\x80\x08", 6)) == "malformed");
  CHECK(fields_of(std::string("\x0a\x03hi", 4)) == "malformed");
  // Varints: at most ten bytes.
  CHECK(fields_of(std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11)) == "1/0 ");
  CHECK(fields_of(std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12)) == "malformed");
  CHECK(fields_of(std::string("\x08\xff", 2)) == "malformed");
  // Fixed values must be complete.
  CHECK(fields_of(std::string("\x09\x01\x02\x03\x04\x05\x06\x07", 8)) == "malformed");
  CHECK(fields_of(std::string("\x0d\x01\x02\x03", 4)) == "malformed");
  // Wire types 6 and 7 do not exist; an end-group tag outside a group is an error.
  CHECK(fields_of(tag(1, 6)) == "malformed");
  CHECK(fields_of(tag(1, 7)) == "malformed");
  CHECK(fields_of(tag(1, 4)) == "malformed");
}

TEST_CASE("the wire scanner skips groups whose end tag matches", "[aggregator]") {
  const std::string group = tag(7, 3) + field_varint(1, 5) + tag(8, 3) + field_bytes(2, "x") + tag(8, 4) + tag(7, 4);
  CHECK(fields_of(group + field_varint(2, 1)) == "7/3 2/0 ");
  CHECK(fields_of(tag(7, 3) + field_varint(1, 5) + tag(6, 4)) == "malformed");  // wrong end tag
  CHECK(fields_of(tag(7, 3) + field_varint(1, 5)) == "malformed");              // no end tag
  CHECK(fields_of(tag(7, 3) + std::string(1, '\0') + tag(7, 4)) == "malformed");  // tag 0 inside
  // Groups count towards the nesting limit like messages.
  CHECK(fields_of(group, 2) == "7/3 ");
  CHECK(fields_of(group, 1) == "malformed");
  CHECK(fields_of(field_varint(1, 1), -1) == "malformed");
  CHECK(fields_of("", -1) == "malformed");
  CHECK(fields_of("", 0).empty());
}

TEST_CASE("scan_batch counts entries and reads the sequence", "[aggregator]") {
  const std::string batch = field_varint(1, 42) + field_bytes(4, "") + field_bytes(3, "") + field_bytes(4, "x");
  uint64_t sequence = 0;
  uint32_t entries = 0;
  REQUIRE(scan_batch(batch, sequence, entries));
  CHECK(sequence == 42);
  CHECK(entries == 2);
  CHECK_FALSE(scan_batch(batch + "\x22", sequence, entries));
}
