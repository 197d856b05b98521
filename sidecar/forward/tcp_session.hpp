#pragma once
// One connection of the native protocol, over a plain or TLS stream.
#include <zstd.h>

#include <array>
#include <string>
#include <string_view>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "logferry/v1/logferry.pb.h"
#include "sidecar/core/zstd_context.hpp"
#include "sidecar/forward/framing.hpp"
#include "sidecar/forward/sink.hpp"

namespace logferry {

// Encodes the frame header and ClientMessage envelope of a batch payload:
// [4-byte length][tag of field `field`][varint payload length]. The payload
// itself is written from its own buffer (no copy).
std::string batch_frame_header(uint32_t field, size_t payload_size);

// The largest frame a session reads from the aggregator: what its HelloAck
// announces, clamped to kMaxServerFrameBytes (a hostile aggregator cannot
// make the sidecar allocate more).
uint32_t server_frame_limit(const v1::HelloAck& ack);

// Compresses with zstd into `out`; false on failure.
bool zstd_compress(ZSTD_CCtx* cctx, std::string_view in, std::string& out);

template <class Stream>
class TcpSession final : public SinkSession {
 public:
  TcpSession(std::unique_ptr<Stream> stream, bool compress, uint32_t max_frame_bytes)
      : stream_(std::move(stream)), compress_(compress), max_frame_bytes_(max_frame_bytes) {
    if (compress_) cctx_ = make_zstd_compressor();
  }

  boost::asio::awaitable<boost::system::error_code> write(const SealedBatch& batch) override {
    namespace asio = boost::asio;
    std::string_view payload = batch.payload;
    uint32_t field = 2;  // ClientMessage.batch
    if (compress_) {
      if (!zstd_compress(cctx_.get(), payload, compressed_)) co_return make_error_code(Errc::malformed_message);
      payload = compressed_;
      field = 3;  // ClientMessage.compressed_batch
    }
    header_ = batch_frame_header(field, payload.size());
    const std::array<asio::const_buffer, 2> bufs{asio::buffer(header_), asio::buffer(payload.data(), payload.size())};
    auto [ec, n] = co_await asio::async_write(*stream_, bufs, asio::as_tuple(asio::use_awaitable));
    co_return ec;
  }

  // Acks are read through a FrameDecoder: one read takes every ack that arrived
  // (usually one frame, header and body together), where reading the header
  // and the body one by one took a system call each.
  boost::asio::awaitable<boost::system::result<DeliveryReport>> read_report() override {
    namespace asio = boost::asio;
    for (;;) {
      const FrameDecoder::Status status = acks_.next(frame_);
      if (status == FrameDecoder::Status::frame) break;
      if (status == FrameDecoder::Status::too_large) co_return make_error_code(Errc::frame_too_large);
      auto [ec, n] = co_await stream_->async_read_some(asio::buffer(chunk_), asio::as_tuple(asio::use_awaitable));
      if (ec) co_return ec;
      acks_.feed(std::string_view(chunk_.data(), n));
    }
    v1::ServerMessage msg;
    if (!msg.ParseFromString(frame_) || !msg.has_ack()) co_return make_error_code(Errc::malformed_message);
    DeliveryReport r;
    r.sequence = msg.ack().sequence();
    r.outcome = msg.ack().status() == v1::ACK_STATUS_OK ? Outcome::accepted : Outcome::rejected;
    r.error = msg.ack().error();
    co_return r;
  }

  void close() override {
    boost::system::error_code ec;
    lowest_layer().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    lowest_layer().close(ec);
  }

 private:
  boost::asio::ip::tcp::socket& lowest_layer() {
    if constexpr (std::is_same_v<Stream, boost::asio::ip::tcp::socket>) return *stream_;
    else return stream_->next_layer();
  }

  std::unique_ptr<Stream> stream_;
  bool compress_;
  uint32_t max_frame_bytes_;
  ZstdCompressor cctx_;  // set when compress_
  std::string compressed_;
  std::string header_;
  FrameDecoder acks_{max_frame_bytes_};  // bytes read from the aggregator, cut into frames
  std::array<char, 4096> chunk_{};        // one read
  std::string frame_;                     // the ack being decoded
};

}  // namespace logferry
