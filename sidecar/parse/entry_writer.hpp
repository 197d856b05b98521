#pragma once
// Small helpers every parser uses to fill an entry. Strings are always stored
// as valid UTF-8: proto3 `string` fields must hold UTF-8, so invalid bytes are
// replaced by U+FFFD (the raw bytes are not kept).
#include <cstdint>
#include <string>
#include <string_view>

#include "logferry/v1/logferry.pb.h"
#include "sidecar/core/wire_buffer.hpp"
#include "sidecar/parse/parser.hpp"

namespace logferry {

// Assigns `text` to `out`, replacing invalid UTF-8 bytes by U+FFFD.
void assign_utf8(std::string* out, std::string_view text);

// Sets `value` to a string (UTF-8 repaired).
inline void set_string(v1::AnyValue& value, std::string_view text) {
  assign_utf8(value.mutable_string_value(), text);
}

// Appends an attribute with an empty value and returns it (the key is repaired).
v1::KeyValue& add_attribute(v1::Entry& entry, std::string_view key);

// Appends a string / int / bool attribute.
void add_string_attribute(v1::Entry& entry, std::string_view key, std::string_view value);
void add_int_attribute(v1::Entry& entry, std::string_view key, int64_t value);
void add_bool_attribute(v1::Entry& entry, std::string_view key, bool value);

// Sets a typed value from unquoted text: int64, double, true/false, else a string.
void set_inferred(v1::AnyValue& value, std::string_view text);

// Parses a decimal int64 (optional '-', no '+', no leading zeros); false if not one.
bool parse_int64(std::string_view text, int64_t& out);

// A 64-bit set of key traits (length, first and last byte). Keys whose traits
// differ cannot be equal, so most lines' keys are proven distinct without
// comparing any pair. add() returns true when the key's trait was seen before
// (then an equal key may exist).
class KeyTraitSet {
 public:
  bool add(std::string_view key) {
    const size_t trait = key.empty() ? 0 : key.size() * 7 + static_cast<unsigned char>(key.front()) * 3 +
                                               static_cast<unsigned char>(key.back());
    const uint64_t bit = uint64_t{1} << (trait % 64);
    const bool seen = (seen_ & bit) != 0;
    seen_ |= bit;
    return seen;
  }

 private:
  uint64_t seen_ = 0;
};

// Duplicate keys among attributes [from, end): the last occurrence wins and
// keeps its position among the survivors (like most JSON readers).
void keep_last_of_duplicates(v1::Entry& entry, int from);

// The state of an entry before a parser touched it, so a failed parse can undo
// its partial work (outer stages such as `cri` may have set fields already).
class EntryMark {
 public:
  explicit EntryMark(const v1::Entry& entry);
  // Removes the attributes added since the mark and restores body, time,
  // severity and trace context.
  void restore(v1::Entry& entry) const;
  // The number of attributes the entry had at the mark.
  int attributes() const { return attributes_; }

 private:
  int attributes_;
  uint64_t time_;
  int32_t severity_number_;
  bool had_body_;
  bool had_severity_text_;
  bool had_trace_;
};

// Appends `entry`'s wire format (its fields, without a tag or length).
void append_entry(WireBuffer& out, const v1::Entry& entry);

// Writes the fields of the entry for `line` to `out`: by parser.encode() when
// it can, else by parse() into `scratch` (cleared first), serialized when the
// result carries an entry. The intake's one way of turning a line into bytes.
ParseResult parse_to_wire(Parser& parser, std::string_view line, v1::Entry& scratch, WireBuffer& out);

// Turns `entry` into a parse failure: the raw line as body plus attribute
// log.parse_error = reason (fields the parser set since `mark` are undone).
void set_parse_error(v1::Entry& entry, const EntryMark& mark, std::string_view line, std::string_view reason);

}  // namespace logferry
