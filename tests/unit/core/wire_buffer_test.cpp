#include "sidecar/core/wire_buffer.hpp"

#include <string>

#include <catch2/catch.hpp>

#include "logferry/v1/logferry.pb.h"

using namespace logferry;

// WireBuffer writes fields in the order given; written in field-number order
// they must equal protobuf's own (canonical) serialization byte for byte.
TEST_CASE("wire buffer: embedded lengths of every varint size equal protobuf's bytes", "[core][wire]") {
  for (const size_t n : {size_t{0}, size_t{1}, size_t{120}, size_t{127}, size_t{128}, size_t{16383},
                         size_t{16384}, size_t{(1u << 21) + 5}}) {
    INFO("string of " << n << " bytes");
    const std::string text(n, 'x');
    v1::Entry want;
    want.set_time_unix_nano(1700000000123456789ULL);
    want.set_severity_number(-3);
    want.mutable_body()->set_string_value(text);
    auto* kv = want.add_attributes();
    kv->set_key("nested");
    auto* inner = kv->mutable_value()->mutable_kvlist_value()->add_values();
    inner->set_key("deep");
    inner->mutable_value()->mutable_array_value()->add_values()->set_string_value(text);
    want.mutable_attributes()->Add()->mutable_value()->set_double_value(-0.5);
    want.set_flags(0x01000001);
    want.set_source_index(300);
    want.set_offset(uint64_t{1} << 40);

    WireBuffer w;
    w.append("head");
    w.fixed64(1, 1700000000123456789ULL);
    w.varint(2, static_cast<uint64_t>(int64_t{-3}));
    const size_t body = w.open(5);
    w.bytes(1, text);
    w.close(body);
    const size_t a1 = w.open(6);
    w.bytes(1, "nested");
    const size_t v1 = w.open(2);
    const size_t list = w.open(6);
    const size_t item = w.open(1);
    w.bytes(1, "deep");
    const size_t v2 = w.open(2);
    const size_t arr = w.open(5);
    const size_t el = w.open(1);
    w.bytes(1, text);
    w.close(el);
    w.close(arr);
    w.close(v2);
    w.close(item);
    w.close(list);
    w.close(v1);
    w.close(a1);
    const size_t a2 = w.open(6);
    const size_t v3 = w.open(2);
    w.double_value(4, -0.5);
    w.close(v3);
    w.close(a2);
    w.fixed32(8, 0x01000001);
    w.varint(100, 300);
    w.varint(101, uint64_t{1} << 40);
    CHECK(w.view().substr(0, 4) == "head");
    CHECK(w.view().substr(4) == want.SerializeAsString());
  }
}

TEST_CASE("wire buffer: growth keeps the content; truncate drops the tail and keeps the memory", "[core][wire]") {
  WireBuffer b;
  b.append("ab");
  const std::string big(100000, 'z');
  b.bytes(1, big);  // grows past the first allocation
  CHECK(b.size() == 2 + 1 + 3 + big.size());
  CHECK(b.view().substr(0, 2) == "ab");
  CHECK(b.view().substr(6) == big);
  const size_t capacity = b.capacity();
  b.truncate(2);
  b.varint(2, 1);
  CHECK(b.view() == std::string_view("ab\x10\x01", 4));
  CHECK(b.capacity() == capacity);
  b.clear();
  CHECK(b.empty());
  b.append("");
  CHECK(b.empty());
}

TEST_CASE("wire buffer: a field written twice parses as protobuf says (last scalar wins, repeated append)",
          "[core][wire]") {
  WireBuffer w;
  w.varint(101, 5);
  w.varint(101, 9);
  for (const char* key : {"a", "b"}) {
    const size_t kv = w.open(6);
    w.bytes(1, key);
    w.close(kv);
  }
  v1::Entry e;
  REQUIRE(e.ParseFromArray(w.data(), static_cast<int>(w.size())));
  CHECK(e.offset() == 9);
  REQUIRE(e.attributes_size() == 2);
  CHECK(e.attributes(0).key() == "a");
  CHECK(e.attributes(1).key() == "b");
}
