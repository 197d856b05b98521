#pragma once
// Appends protobuf wire-format fields to a std::string, for the per-line path
// where building a message tree and serializing it costs more than the line's
// parsing (see the benchmark section of the README). Embedded messages are
// written in place: open() leaves a one-byte length, close() patches it and
// shifts the content when the length needs more bytes. The output parses as
// the message the caller describes; field order is the caller's.
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace logferry {

static_assert(std::endian::native == std::endian::little, "fixed-width fields are copied as they are in memory");

class WireWriter {
 public:
  explicit WireWriter(std::string& out) : out_(out) {}

  // A varint field (int32/int64/uint32/uint64/bool/enum): negatives take ten bytes, as protobuf writes them.
  void varint(uint32_t field, uint64_t value) {
    char buf[20];
    size_t n = put_varint(buf, uint64_t{field} << 3);
    n += put_varint(buf + n, value);
    out_.append(buf, n);
  }
  // A fixed64 or double field (little-endian).
  void fixed64(uint32_t field, uint64_t value) { fixed(field, 1, &value, 8); }
  // A fixed32 field.
  void fixed32(uint32_t field, uint32_t value) { fixed(field, 5, &value, 4); }
  void double_value(uint32_t field, double value) {
    uint64_t bits;
    std::memcpy(&bits, &value, 8);
    fixed64(field, bits);
  }
  // A string or bytes field (the caller guarantees UTF-8 for `string` fields).
  void bytes(uint32_t field, std::string_view value) {
    char buf[16 + kShort];
    size_t n = put_varint(buf, (uint64_t{field} << 3) | 2);
    n += put_varint(buf + n, value.size());
    if (value.size() <= kShort) {  // most keys and values: one append
      std::memcpy(buf + n, value.data(), value.size());
      out_.append(buf, n + value.size());
      return;
    }
    out_.append(buf, n);
    out_.append(value.data(), value.size());
  }
  // Starts an embedded message; returns the mark close() needs.
  size_t open(uint32_t field) {
    char buf[8];
    size_t n = put_varint(buf, (uint64_t{field} << 3) | 2);
    buf[n++] = 0;  // the length, patched by close()
    out_.append(buf, n);
    return out_.size();
  }
  // Ends the embedded message started at `mark`.
  void close(size_t mark) {
    const uint64_t length = out_.size() - mark;
    if (length < 0x80) {
      out_[mark - 1] = static_cast<char>(length);
      return;
    }
    char buf[10];
    const size_t n = put_varint(buf, length);
    out_.insert(mark, n - 1, '\0');  // shifts the content behind the longer length
    std::memcpy(out_.data() + mark - 1, buf, n);
  }
  // Bytes that already are wire-format fields of the open message.
  void raw(std::string_view fields) { out_.append(fields.data(), fields.size()); }

  std::string& out() { return out_; }

  static size_t put_varint(char* p, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
      p[n++] = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    p[n++] = static_cast<char>(v);
    return n;
  }

 private:
  void fixed(uint32_t field, uint32_t wire_type, const void* value, size_t size) {
    char buf[16];
    size_t n = put_varint(buf, (uint64_t{field} << 3) | wire_type);
    std::memcpy(buf + n, value, size);
    out_.append(buf, n + size);
  }

  static constexpr size_t kShort = 48;
  std::string& out_;
};

}  // namespace logferry
