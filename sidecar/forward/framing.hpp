#pragma once
// The wire framing of the native protocol: a 4-byte big-endian length, then
// that many bytes of a serialized ClientMessage or ServerMessage. Every
// receiver bounds the length before reading the payload.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <google/protobuf/message_lite.h>

#include "sidecar/core/errors.hpp"

namespace logferry {

inline constexpr uint32_t kFrameHeaderBytes = 4;
inline constexpr uint32_t kDefaultMaxFrameBytes = 16u << 20;
inline constexpr uint32_t kProtocolVersion = 1;
// The largest frame the sidecar reads from an aggregator (a HelloAck or an
// Ack: a few bytes plus an error text). Whatever the aggregator announces, a
// larger frame closes the connection before anything is allocated for it.
inline constexpr uint32_t kMaxServerFrameBytes = 64u << 10;

// Appends header + serialized message to out.
void append_frame(std::string& out, const google::protobuf::MessageLite& message);
// Appends header + already serialized payload to out.
void append_frame(std::string& out, std::string_view payload);

// Encodes / decodes the 4-byte big-endian length.
void put_frame_length(char* header, uint32_t length);
uint32_t get_frame_length(const char* header);

// Incremental decoder for bytes arriving in arbitrary pieces (used by tests and
// the fuzzer as well as readers that buffer).
class FrameDecoder {
 public:
  explicit FrameDecoder(uint32_t max_frame_bytes) : max_(max_frame_bytes) {}
  enum class Status { frame, need_more, too_large };
  // Adds bytes to the decoder's buffer.
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // Extracts the next complete frame's payload into `payload`.
  Status next(std::string& payload);
  size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  uint32_t max_;
  std::string buffer_;
  size_t consumed_ = 0;
};

// The first step of a frame's payload buffer; each further step is at most what
// was received so far, so the buffer never exceeds twice the bytes received
// plus this (a peer's announced length is only an upper bound).
inline constexpr size_t kFrameReadStepBytes = 64u << 10;

// Reads one frame's payload from an async stream. Fails with
// Errc::frame_too_large without reading the payload when the length is over max.
// The payload buffer grows with the bytes that arrive, never from the length alone.
template <class Stream>
boost::asio::awaitable<boost::system::error_code> async_read_frame(Stream& stream, std::string& payload,
                                                                   uint32_t max_frame_bytes) {
  namespace asio = boost::asio;
  char header[kFrameHeaderBytes];
  auto [ec, n] = co_await asio::async_read(stream, asio::buffer(header), asio::as_tuple(asio::use_awaitable));
  if (ec) co_return ec;
  const uint32_t len = get_frame_length(header);
  if (len > max_frame_bytes) co_return make_error_code(Errc::frame_too_large);
  payload.clear();
  while (payload.size() < len) {
    const size_t have = payload.size();
    const size_t step = std::min<size_t>(len - have, std::max(kFrameReadStepBytes, have));
    payload.resize(have + step);
    auto [ec2, n2] = co_await asio::async_read(stream, asio::buffer(payload.data() + have, step),
                                               asio::as_tuple(asio::use_awaitable));
    if (ec2) co_return ec2;
  }
  co_return boost::system::error_code{};
}

}  // namespace logferry
