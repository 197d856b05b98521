#pragma once
// Test helpers for the wire-format readers: hand-made protobuf bytes, random
// messages of every kind, and the oracle, protobuf's own ParseFromArray plus
// the message-tree renderer, that the wire path must agree with.
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include <google/protobuf/stubs/logging.h>
#include <catch2/catch.hpp>

#include "aggregator/batch_view.hpp"
#include "aggregator/entry_json.hpp"
#include "aggregator/entry_wire.hpp"
#include "logferry/v1/logferry.pb.h"
#include "support/entry_line_oracle.hpp"

namespace logferry::aggregator::wire_test {

inline std::string varint(uint64_t v) {
  std::string out;
  do {
    const auto b = static_cast<char>((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
    out.push_back(b);
    v >>= 7;
  } while (v != 0);
  return out;
}
inline std::string tag(uint32_t number, uint32_t wire_type) { return varint(uint64_t{number} << 3 | wire_type); }
inline std::string field_varint(uint32_t n, uint64_t v) { return tag(n, 0) + varint(v); }
inline std::string field_bytes(uint32_t n, std::string_view b) { return tag(n, 2) + varint(b.size()) + std::string(b); }
inline std::string field_fixed(uint32_t n, uint64_t v, int width) {
  std::string out = tag(n, width == 8 ? 1 : 5);
  for (int i = 0; i < width; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}

inline std::string random_text(std::mt19937& rng) {
  static const char* const kPieces[] = {"a",    "hello", "\xC3\xA9", "\xE6\x97\xA5\xE6\x9C\xAC", "\xF0\x9F\x98\x80",
                                        "\"",   "\\",    "\n",       "\t",                       "\x01",
                                        "\x1f", "\x7f",  "",         " ",                        "</script>",
                                        "\xE2\x80\xA8", "{}", "0123456789abcdef"};
  std::string s;
  for (unsigned n = rng() % 6; n > 0; --n) s += kPieces[rng() % std::size(kPieces)];
  return s;
}

inline std::string random_bytes(std::mt19937& rng, size_t max) {
  std::string s(rng() % (max + 1), '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

inline void random_value(std::mt19937& rng, v1::AnyValue& v, int depth) {
  static const double kDoubles[] = {0.0, -0.0, 1.5, -2.25, 1e300, 1e-300, 123456789.125, 0.1, 1e21, 1e-7,
                                    std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                                    std::numeric_limits<double>::quiet_NaN(), 5e-324};
  switch (rng() % (depth > 0 ? 8 : 6)) {
    case 0: break;  // unset
    case 1: v.set_string_value(random_text(rng)); break;
    case 2: v.set_bool_value(rng() % 2 == 0); break;
    case 3: v.set_int_value(static_cast<int64_t>((uint64_t{rng()} << 32) | rng()) >> (rng() % 64)); break;
    case 4: v.set_double_value(kDoubles[rng() % std::size(kDoubles)]); break;
    case 5: v.set_bytes_value(random_bytes(rng, 7)); break;
    case 6:
      v.mutable_array_value();
      for (unsigned n = rng() % 4; n > 0; --n) random_value(rng, *v.mutable_array_value()->add_values(), depth - 1);
      break;
    default:
      v.mutable_kvlist_value();
      for (unsigned n = rng() % 4; n > 0; --n) {
        auto* kv = v.mutable_kvlist_value()->add_values();
        kv->set_key(random_text(rng));
        if (rng() % 5 != 0) random_value(rng, *kv->mutable_value(), depth - 1);
      }
  }
}

inline void random_entry(std::mt19937& rng, v1::Entry& e, uint32_t sources) {
  if (rng() % 4 != 0) e.set_time_unix_nano((uint64_t{rng()} << 32) | rng());
  if (rng() % 4 != 0) e.set_observed_time_unix_nano((uint64_t{rng()} << 32) | rng());
  if (rng() % 2 != 0) e.set_severity_number(static_cast<int32_t>(rng() % 30) - 5);
  if (rng() % 2 != 0) e.set_severity_text(random_text(rng));
  if (rng() % 5 != 0) random_value(rng, *e.mutable_body(), 3);
  for (unsigned n = rng() % 5; n > 0; --n) {
    auto* kv = e.add_attributes();
    kv->set_key(random_text(rng));
    random_value(rng, *kv->mutable_value(), 2);
  }
  if (rng() % 4 == 0) e.set_flags(rng());
  if (rng() % 3 == 0) e.set_trace_id(random_bytes(rng, 16));
  if (rng() % 3 == 0) e.set_span_id(random_bytes(rng, 8));
  e.set_source_index(rng() % sources);
  e.set_offset(rng() % 3 == 0 ? rng() : (uint64_t{rng()} << 32) | rng());
}

inline v1::Batch random_batch(std::mt19937& rng, int entries) {
  v1::Batch b;
  b.set_sequence(rng() % 1000 + 1);
  auto* pod = b.add_resource();
  pod->set_key("k8s.pod.name");
  pod->mutable_value()->set_string_value("web-" + std::to_string(rng() % 3));
  const uint32_t sources = 1 + rng() % 3;
  for (uint32_t i = 0; i < sources; ++i) {
    auto* s = b.add_sources();
    s->set_id("file:" + std::to_string(i) + random_text(rng));
    s->set_path("/var/log/" + random_text(rng));
    s->set_end_offset(rng());
  }
  for (int i = 0; i < entries; ++i) random_entry(rng, *b.add_entries(), sources);
  return b;
}

inline std::string hex(std::string_view s) {
  std::string out;
  append_hex(out, s);
  return out;
}

inline const LineContext kContext{"\"file:1:2\"", "\"/var/log/a.log\"", "{\"k8s.pod.name\":\"web-0\"}"};
inline LineFrame frame_of(const LineContext& context) {
  LineFrame frame;
  build_frame(context, frame);
  return frame;
}

// Decodes a serialized Batch with protobuf and with decode_batch; checks that
// both accept or both refuse it and that every accepted entry renders the same
// line both ways. Returns whether the batch was accepted.
inline bool same_as_tree(std::string_view bytes) {
  google::protobuf::LogSilencer quiet;  // protobuf logs every invalid UTF-8 string
  v1::Batch parsed;
  const bool tree_ok = parsed.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  BatchView view;
  const bool checked_ok = decode_batch(bytes, view, false);
  const bool wire_ok = decode_batch(bytes, view, true);
  INFO("batch bytes " << hex(bytes));
  REQUIRE(tree_ok == checked_ok);
  REQUIRE(tree_ok == wire_ok);
  if (!tree_ok) return false;
  CHECK(view.head.sequence() == parsed.sequence());
  v1::Batch head = parsed;
  head.clear_entries();
  CHECK(view.head.SerializeAsString() == head.SerializeAsString());
  REQUIRE(view.entries.size() == static_cast<size_t>(parsed.entries_size()));
  for (size_t i = 0; i < view.entries.size(); ++i) {
    const v1::Entry& e = parsed.entries(static_cast<int>(i));
    CHECK(view.entries[i].key.source_index == e.source_index());
    CHECK(view.entries[i].key.offset == e.offset());
    std::string tree;
    logferry::test::append_entry_line(tree, e, kContext);
    std::string wire;
    append_line(wire, view, view.entries[i], frame_of(kContext));
    CHECK(wire == tree);
  }
  return true;
}

// The same for one serialized Entry, wrapped in a batch with one source.
inline bool entry_same_as_tree(std::string_view entry) {
  return same_as_tree(field_bytes(3, field_bytes(1, "src")) + field_bytes(4, entry));
}

}  // namespace logferry::aggregator::wire_test
