#pragma once
// A growable byte buffer that appends protobuf wire-format fields, for the
// per-line path where building a message tree and serializing it costs more
// than the line's parsing (see the benchmark section of the README). Embedded
// messages are written in place: open() leaves a one-byte length, close()
// patches it and shifts the content when the length needs more bytes. The
// output parses as the message the caller describes; field order is the
// caller's. Unlike std::string, growing never zero-fills, and a field is one
// capacity check plus copies.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace logferry {

static_assert(std::endian::native == std::endian::little, "fixed-width fields are copied as they are in memory");

class WireBuffer {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const char* data() const { return data_.get(); }
  // For rewriting written bytes in place (same size).
  char* data() { return data_.get(); }
  std::string_view view() const { return {data_.get(), size_}; }
  size_t capacity() const { return capacity_; }
  // Forgets the content; keeps the memory.
  void clear() { size_ = 0; }
  // Drops what was written after the first `size` bytes.
  void truncate(size_t size) { size_ = std::min(size, size_); }
  // Appends `n` bytes the caller writes through the returned pointer.
  char* grow(size_t n) {
    char* p = room(n);
    size_ += n;
    return p;
  }
  void append(std::string_view bytes) {
    if (!bytes.empty()) std::memcpy(grow(bytes.size()), bytes.data(), bytes.size());
  }

  // A varint field (int32/int64/uint32/uint64/bool/enum): negatives take ten bytes, as protobuf writes them.
  void varint(uint32_t field, uint64_t value) {
    char* p = room(20);
    p += put_varint(p, uint64_t{field} << 3);
    p += put_varint(p, value);
    size_ = static_cast<size_t>(p - data_.get());
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
    char* p = room(20 + value.size());
    p += put_varint(p, (uint64_t{field} << 3) | 2);
    p += put_varint(p, value.size());
    std::memcpy(p, value.data(), value.size());
    size_ = static_cast<size_t>(p - data_.get()) + value.size();
  }
  // Starts an embedded message; returns the mark close() needs.
  size_t open(uint32_t field) {
    char* p = room(12);
    p += put_varint(p, (uint64_t{field} << 3) | 2);
    *p++ = 0;  // the length, patched by close()
    size_ = static_cast<size_t>(p - data_.get());
    return size_;
  }
  // Ends the embedded message started at `mark`.
  void close(size_t mark) {
    const uint64_t length = size_ - mark;
    if (length < 0x80) {
      data_[mark - 1] = static_cast<char>(length);
      return;
    }
    char buf[10];
    const size_t n = put_varint(buf, length);
    room(n);
    char* base = data_.get();
    std::memmove(base + mark + n - 1, base + mark, length);  // room for the longer length
    std::memcpy(base + mark - 1, buf, n);
    size_ += n - 1;
  }

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
  // A pointer to at least `n` writable bytes after the written ones.
  char* room(size_t n) {
    if (capacity_ - size_ < n) reallocate(size_ + n);
    return data_.get() + size_;
  }
  void reallocate(size_t needed) {
    const size_t capacity = std::max({needed, capacity_ * 2, size_t{4096}});
    auto data = std::make_unique_for_overwrite<char[]>(capacity);
    if (size_ > 0) std::memcpy(data.get(), data_.get(), size_);
    data_ = std::move(data);
    capacity_ = capacity;
  }
  void fixed(uint32_t field, uint32_t wire_type, const void* value, size_t size) {
    char* p = room(16);
    p += put_varint(p, (uint64_t{field} << 3) | wire_type);
    std::memcpy(p, value, size);
    size_ = static_cast<size_t>(p - data_.get()) + size;
  }

  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace logferry
