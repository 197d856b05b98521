#pragma once
// A minimal protobuf wire-format reader for the two places where a full parse
// is not needed: picking the ClientMessage envelope apart without copying its
// payload, and counting a Batch's entries in discard mode.
#include <cstdint>
#include <string_view>

namespace logferry::aggregator {

struct WireField {
  uint32_t number = 0;
  uint32_t wire_type = 0;
  uint64_t varint = 0;         // wire types 0, 1, 5
  std::string_view bytes;      // wire type 2
};

// Reads fields one by one; every read is bounded by the input.
class WireScanner {
 public:
  explicit WireScanner(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}
  // Reads the next field; false at the end or on malformed input (see ok()).
  bool next(WireField& field);
  // True unless malformed input was met.
  bool ok() const { return ok_; }

 private:
  bool read_varint(uint64_t& v);
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

// Counts a serialized Batch's entries and reads its sequence; false when malformed.
bool scan_batch(std::string_view batch, uint64_t& sequence, uint32_t& entry_count);

}  // namespace logferry::aggregator
