#include "aggregator/batch_view.hpp"

#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "aggregator/wire_scan.hpp"
#include "wire_oracle.hpp"

using namespace logferry;
using namespace logferry::aggregator;
using namespace logferry::aggregator::wire_test;

namespace {

// An AnyValue nested `levels` arrays deep, holding a string.
v1::AnyValue nested_array(int levels) {
  v1::AnyValue v;
  v.set_string_value("deep");
  for (int i = 0; i < levels; ++i) {
    v1::AnyValue outer;
    *outer.mutable_array_value()->add_values() = v;
    v = outer;
  }
  return v;
}

}  // namespace

TEST_CASE("random batches decode and render as the message tree does", "[aggregator]") {
  std::mt19937 rng(5);
  for (int i = 0; i < 300; ++i) {
    const v1::Batch batch = random_batch(rng, static_cast<int>(rng() % 8));
    const std::string bytes = batch.SerializeAsString();
    REQUIRE(same_as_tree(bytes));
    BatchView decoded;
    REQUIRE(decode_batch(bytes, decoded, true));
    BatchView viewed;
    view_batch(batch, viewed);
    CHECK(viewed.head.SerializeAsString() == decoded.head.SerializeAsString());
    REQUIRE(viewed.entries.size() == decoded.entries.size());
    for (size_t k = 0; k < viewed.entries.size(); ++k) {
      CHECK(viewed.entries[k].bytes == decoded.entries[k].bytes);
      CHECK(viewed.entries[k].key.offset == decoded.entries[k].key.offset);
      CHECK(viewed.entries[k].key.source_index == decoded.entries[k].key.source_index);
      std::string from_view;
      std::string from_decoded;
      append_line(from_view, viewed, viewed.entries[k], frame_of(kContext));
      append_line(from_decoded, decoded, decoded.entries[k], frame_of(kContext));
      CHECK(from_view == from_decoded);
    }
    CHECK(validate_batch(decoded).empty());
  }
}

TEST_CASE("damaged batches are refused exactly where protobuf refuses them", "[aggregator]") {
  std::mt19937 rng(9);
  int accepted = 0;
  int refused = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string bytes = random_batch(rng, 1 + static_cast<int>(rng() % 3)).SerializeAsString();
    for (unsigned n = 1 + rng() % 2; n > 0; --n) {
      const size_t at = rng() % bytes.size();
      switch (rng() % 4) {
        case 0: bytes[at] = static_cast<char>(rng()); break;
        case 1: bytes[at] = static_cast<char>(bytes[at] ^ (1 << (rng() % 8))); break;
        case 2: bytes.insert(at, 1, static_cast<char>(rng())); break;
        default: bytes.erase(at, 1 + rng() % 3); break;
      }
      if (bytes.empty()) bytes = "x";
    }
    (same_as_tree(bytes) ? accepted : refused)++;
  }
  CHECK(accepted > 100);
  CHECK(refused > 100);
}

TEST_CASE("the nesting limit is protobuf's", "[aggregator]") {
  // Batch > Entry > body AnyValue > (ArrayValue > AnyValue) x levels.
  for (int levels = 45; levels <= 52; ++levels) {
    v1::Batch batch;
    batch.add_sources()->set_id("s");
    *batch.add_entries()->mutable_body() = nested_array(levels);
    INFO("levels " << levels);
    CHECK(same_as_tree(batch.SerializeAsString()) == (levels <= 49));  // the innermost AnyValue at level 2 + 2 * 49
  }
  v1::Batch too_deep;
  too_deep.add_sources()->set_id("s");
  *too_deep.add_entries()->mutable_body() = nested_array(60);
  CHECK_FALSE(same_as_tree(too_deep.SerializeAsString()));
  // Unknown groups count too: 100 levels below the batch, 99 below an entry.
  const auto groups = [](int n) {
    std::string g;
    for (int i = 0; i < n; ++i) g += tag(7, 3);
    for (int i = 0; i < n; ++i) g += tag(7, 4);
    return g;
  };
  CHECK(same_as_tree(groups(100)));
  CHECK_FALSE(same_as_tree(groups(101)));
  CHECK(same_as_tree(field_bytes(4, groups(99))));
  CHECK_FALSE(same_as_tree(field_bytes(4, groups(100))));
}

TEST_CASE("the batch's other fields are parsed as protobuf parses them", "[aggregator]") {
  const std::string source = field_bytes(1, "src") + field_bytes(2, "/p") + field_varint(3, 7);
  const std::string label = field_bytes(1, "k8s.pod.name") + field_bytes(2, field_bytes(1, "web-1"));
  const std::string entry = field_varint(101, 5) + field_bytes(5, field_bytes(1, "x"));
  // Sources, labels and entries interleaved; unknown fields and a repeated sequence.
  const std::string bytes = field_varint(1, 3) + field_bytes(4, entry) + field_bytes(3, source) +
                            field_fixed(9, 1, 8) + field_bytes(2, label) + field_bytes(4, entry + field_varint(100, 1)) +
                            field_varint(4, 2) + field_bytes(3, source) + field_varint(1, 4) + tag(8, 3) + tag(8, 4);
  REQUIRE(same_as_tree(bytes));
  BatchView view;
  REQUIRE(decode_batch(bytes, view, true));
  CHECK(view.head.sequence() == 4);
  CHECK(view.head.sources_size() == 2);
  CHECK(view.head.resource_size() == 1);
  REQUIRE(view.entries.size() == 2);
  CHECK(view.entries[1].key.source_index == 1);
  CHECK(validate_batch(view).empty());
  // Invalid UTF-8 in a source id or a label fails the whole batch, as it does in protobuf.
  CHECK_FALSE(same_as_tree(bytes + field_bytes(3, field_bytes(1, "\xC3\x28"))));
  CHECK_FALSE(same_as_tree(bytes + field_bytes(2, field_bytes(2, field_bytes(1, "\xFF")))));
}

TEST_CASE("validate_batch refuses a source_index out of range", "[aggregator]") {
  const std::string bytes = field_bytes(3, field_bytes(1, "a")) + field_bytes(4, field_varint(100, 0)) +
                            field_bytes(4, field_varint(100, 1));
  BatchView view;
  REQUIRE(decode_batch(bytes, view, true));
  CHECK(validate_batch(view) == "entry source_index 1 out of range");
  // The last source_index wins.
  REQUIRE(decode_batch(bytes + field_bytes(4, field_varint(100, 7) + field_varint(100, 0)), view, false));
  CHECK(validate_batch(view) == "entry source_index 1 out of range");
  REQUIRE(decode_batch(field_bytes(3, "") + field_bytes(4, field_varint(100, 7) + field_varint(100, 0)), view, true));
  CHECK(validate_batch(view).empty());
}
