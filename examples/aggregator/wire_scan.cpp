#include "aggregator/wire_scan.hpp"

#include <bit>
#include <cstring>

namespace logferry::aggregator {

bool WireScanner::read_varint(uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 70; shift += 7) {  // at most 10 bytes; bits past 64 are dropped
    if (p_ == end_) return false;
    const auto b = static_cast<unsigned char>(*p_++);
    if (shift < 64) v |= uint64_t{b & 0x7Fu} << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

bool WireScanner::read_tag(uint32_t& tag) {
  uint64_t v = 0;
  for (int shift = 0; shift < 35; shift += 7) {  // at most 5 bytes; bits past 32 are dropped
    if (p_ == end_) return false;
    const auto b = static_cast<unsigned char>(*p_++);
    v |= uint64_t{b & 0x7Fu} << shift;
    if ((b & 0x80) == 0) {
      tag = static_cast<uint32_t>(v);
      return true;
    }
  }
  return false;
}

bool WireScanner::read_size(uint64_t& n) {
  n = 0;
  for (int shift = 0; shift < 35; shift += 7) {  // at most 5 bytes, below 2 GiB
    if (p_ == end_) return false;
    const auto b = static_cast<unsigned char>(*p_++);
    if (shift == 28 && b >= 8) return false;
    n |= uint64_t{b & 0x7Fu} << shift;
    if ((b & 0x80) == 0) return n <= static_cast<uint64_t>(end_ - p_);
  }
  return false;
}

bool WireScanner::skip_field(uint32_t number, uint32_t wire_type, int depth) {
  uint64_t n = 0;
  switch (wire_type) {
    case kVarint: return read_varint(n);
    case kFixed64:
    case kFixed32: {
      n = wire_type == kFixed64 ? 8 : 4;
      if (static_cast<uint64_t>(end_ - p_) < n) return false;
      p_ += n;
      return true;
    }
    case kLengthDelimited:
      if (!read_size(n)) return false;
      p_ += n;
      return true;
    case kGroup: return skip_group(number, depth - 1);
    default: return false;  // a stray end-group tag, or wire types 6 and 7
  }
}

bool WireScanner::skip_group(uint32_t number, int depth) {
  if (depth < 0) return false;
  for (;;) {
    uint32_t tag = 0;
    if (p_ == end_ || !read_tag(tag) || tag == 0) return false;  // a group must end with its end tag
    if ((tag & 7) == 4) return (tag >> 3) == number;
    if ((tag >> 3) == 0 || !skip_field(tag >> 3, tag & 7, depth)) return false;
  }
}

bool WireScanner::next_slow(WireField& field) {
  if (!ok_ || p_ == end_) return false;
  uint32_t tag = 0;
  if (!read_tag(tag) || (tag >> 3) == 0) return fail();
  field.number = tag >> 3;
  field.wire_type = tag & 7;
  switch (field.wire_type) {
    case kVarint:
      if (!read_varint(field.varint)) return fail();
      return true;
    case kFixed64:
    case kFixed32: {
      const size_t n = field.wire_type == kFixed64 ? 8 : 4;
      if (static_cast<size_t>(end_ - p_) < n) return fail();
      field.varint = 0;
      if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(&field.varint, p_, n);
      } else {
        for (size_t i = n; i > 0; --i) field.varint = (field.varint << 8) | static_cast<unsigned char>(p_[i - 1]);
      }
      p_ += n;
      return true;
    }
    case kLengthDelimited: {
      uint64_t len = 0;
      if (!read_size(len)) return fail();
      field.bytes = {p_, static_cast<size_t>(len)};
      p_ += len;
      return true;
    }
    case kGroup:
      if (!skip_group(field.number, depth_ - 1)) return fail();
      return true;
    default:
      return fail();  // a stray end-group tag, or wire types 6 and 7
  }
}

bool scan_batch(std::string_view batch, uint64_t& sequence, uint32_t& entry_count) {
  WireScanner scanner(batch);
  WireField f;
  sequence = 0;
  entry_count = 0;
  while (scanner.next(f)) {
    if (f.number == 1) {
      if (f.wire_type != 0) return false;
      sequence = f.varint;
    } else if (f.number == 4) {
      if (f.wire_type != 2) return false;
      ++entry_count;
    }
  }
  return scanner.ok();
}

}  // namespace logferry::aggregator
