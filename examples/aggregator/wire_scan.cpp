#include "aggregator/wire_scan.hpp"

#include <cstring>

namespace logferry::aggregator {

bool WireScanner::read_varint(uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p_ == end_) return false;
    const auto b = static_cast<unsigned char>(*p_++);
    v |= uint64_t{b & 0x7Fu} << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

bool WireScanner::next(WireField& field) {
  if (!ok_ || p_ == end_) return false;
  uint64_t tag = 0;
  if (!read_varint(tag) || (tag >> 3) == 0 || (tag >> 3) > 0x1FFFFFFF) return ok_ = false;
  field.number = static_cast<uint32_t>(tag >> 3);
  field.wire_type = static_cast<uint32_t>(tag & 7);
  field.bytes = {};
  switch (field.wire_type) {
    case 0:
      if (!read_varint(field.varint)) return ok_ = false;
      return true;
    case 1:
    case 5: {
      const size_t n = field.wire_type == 1 ? 8 : 4;
      if (static_cast<size_t>(end_ - p_) < n) return ok_ = false;
      field.varint = 0;
      std::memcpy(&field.varint, p_, n);  // little-endian hosts only; value unused by callers
      p_ += n;
      return true;
    }
    case 2: {
      uint64_t len = 0;
      if (!read_varint(len) || len > static_cast<uint64_t>(end_ - p_)) return ok_ = false;
      field.bytes = {p_, static_cast<size_t>(len)};
      p_ += len;
      return true;
    }
    default:
      return ok_ = false;  // groups (3, 4) are not used by the contract; 6, 7 do not exist
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
