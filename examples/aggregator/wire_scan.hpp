#pragma once
// A protobuf wire-format reader that accepts exactly what protobuf 3.21's
// ParseFromArray accepts at the framing level: tags of at most 5 bytes (field
// number 0 refused), varints of at most 10 bytes, lengths of at most 5 bytes,
// every field inside its message's bounds, unknown groups skipped when their
// end tag matches, stray end-group tags and wire types 6 and 7 refused, and
// protobuf's nesting limit (100). It copies nothing: length-delimited fields
// come back as views of the input.
#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace logferry::aggregator {

// protobuf's default recursion limit: messages and groups nested below a top-level one.
inline constexpr int kWireMaxDepth = 100;

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kGroup = 3, kFixed32 = 5 };

struct WireField {
  uint32_t number = 0;
  uint32_t wire_type = 0;
  uint64_t varint = 0;         // wire types 0, 1, 5 (fixed values little-endian decoded)
  std::string_view bytes;      // wire type 2 (a group, wire type 3, is skipped whole)
};

// Reads fields one by one; every read is bounded by the input.
class WireScanner {
 public:
  // `depth`: how many levels of messages or groups may still nest below this
  // one; a message that is itself too deep has depth < 0 and is malformed.
  explicit WireScanner(std::string_view data, int depth = kWireMaxDepth)
      : start_(data.data()), p_(data.data()), end_(data.data() + data.size()), depth_(depth), ok_(depth >= 0) {
    if (!ok_) p_ = end_;
  }
  // Reads the next field; false at the end or on malformed input (see ok()).
  // Only the members that the field's wire type uses are set.
  [[gnu::always_inline]] bool next(WireField& field) {
    if (p_ == end_) return false;  // also after an error (see fail())
    // Fast path: a tag of one or two bytes with a length of one or two bytes,
    // a varint of up to four bytes or a fixed value; the rest is next_slow()'s.
    const auto* p = reinterpret_cast<const unsigned char*>(p_);
    const auto left = static_cast<size_t>(end_ - p_);
    if (left < 2) return next_slow(field);
    uint32_t tag = p[0];
    size_t used = 1;
    if (tag >= 0x80) {
      if (p[1] >= 0x80 || left < 3) return next_slow(field);
      tag = (tag & 0x7F) | uint32_t{p[1]} << 7;
      used = 2;
    }
    if (tag < 8) return next_slow(field);
    const unsigned char* v = p + used;  // the value
    const size_t rest = left - used;     // at least 1
    switch (tag & 7) {
      case kLengthDelimited: {
        size_t len = v[0];
        size_t k = 1;
        if (len >= 0x80) {
          if (rest < 2 || v[1] >= 0x80) return next_slow(field);
          len = (len & 0x7F) | size_t{v[1]} << 7;
          k = 2;
        }
        if (len > rest - k) return next_slow(field);
        field.bytes = {p_ + used + k, len};
        used += k + len;
        break;
      }
      case kVarint: {
        const size_t avail = rest < 4 ? rest : 4;
        uint64_t value = 0;
        for (size_t i = 0;; ++i) {
          if (i == avail) return next_slow(field);
          value |= uint64_t{v[i] & 0x7Fu} << (7 * i);
          if (v[i] < 0x80) {
            used += i + 1;
            break;
          }
        }
        field.varint = value;
        break;
      }
      case kFixed64:
      case kFixed32: {
        const size_t n = (tag & 7) == kFixed64 ? 8 : 4;
        if (rest < n || std::endian::native != std::endian::little) return next_slow(field);
        field.varint = 0;
        std::memcpy(&field.varint, v, n);
        used += n;
        break;
      }
      default: return next_slow(field);
    }
    p_ += used;
    field.number = tag >> 3;
    field.wire_type = tag & 7;
    return true;
  }
  // True unless malformed input was met.
  bool ok() const { return ok_; }
  // The depth to give a scanner of a length-delimited field read as a message.
  int child_depth() const { return depth_ - 1; }
  // Where the next field starts, counted from the start of the input.
  size_t position() const { return static_cast<size_t>(p_ - start_); }

 private:
  bool next_slow(WireField& field);
  bool fail() {
    ok_ = false;
    p_ = end_;
    return false;
  }
  bool read_varint(uint64_t& v);
  bool read_tag(uint32_t& tag);
  bool read_size(uint64_t& n);
  bool skip_field(uint32_t number, uint32_t wire_type, int depth);
  bool skip_group(uint32_t number, int depth);
  const char* start_;
  const char* p_;
  const char* end_;
  int depth_;
  bool ok_;
};

// Counts a serialized Batch's entries and reads its sequence; false when malformed.
bool scan_batch(std::string_view batch, uint64_t& sequence, uint32_t& entry_count);

}  // namespace logferry::aggregator
