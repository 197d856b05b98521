#include "aggregator/session_protocol.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <zstd.h>

#include <algorithm>

#include "aggregator/wire_scan.hpp"
#include "sidecar/core/errors.hpp"
#include "sidecar/forward/framing.hpp"

namespace logferry::aggregator {
namespace {

void append_hello_ack(std::string& reply, bool accepted, std::string_view error, bool zstd, uint32_t max_frame) {
  v1::ServerMessage msg;
  auto* ack = msg.mutable_hello_ack();
  ack->set_accepted(accepted);
  ack->set_error(std::string(error));
  ack->set_protocol_version(kProtocolVersion);
  ack->set_compression(zstd ? v1::COMPRESSION_ZSTD : v1::COMPRESSION_NONE);
  ack->set_max_frame_bytes(max_frame);
  append_frame(reply, msg);
}

}  // namespace

DecodeScratch::DecodeScratch() : zstd_(ZSTD_createDCtx()) {}

DecodeScratch::~DecodeScratch() { ZSTD_freeDCtx(zstd_); }

bool DecodeScratch::inflate(std::string_view compressed, size_t limit) {
  inflated_size_ = 0;
  if (zstd_ == nullptr) return false;
  ZSTD_DCtx_reset(zstd_, ZSTD_reset_session_only);
  ZSTD_inBuffer in{compressed.data(), compressed.size(), 0};
  size_t want = std::min(limit, std::max<size_t>(compressed.size() * 4, 64u << 10));
  if (inflated_.size() < want) inflated_.resize(want);
  size_t last = 1;
  while (in.pos < in.size) {
    if (inflated_size_ == inflated_.size()) {
      if (inflated_.size() >= limit) return false;  // would exceed the bound
      inflated_.resize(std::min(limit, inflated_.size() * 2));
    }
    ZSTD_outBuffer out{inflated_.data(), inflated_.size(), inflated_size_};
    last = ZSTD_decompressStream(zstd_, &out, &in);
    if (ZSTD_isError(last)) return false;
    inflated_size_ = out.pos;
  }
  // Flush what the context still holds for a frame whose input is all consumed.
  while (last != 0) {
    if (inflated_size_ == inflated_.size()) {
      if (inflated_.size() >= limit) return false;
      inflated_.resize(std::min(limit, inflated_.size() * 2));
    }
    ZSTD_outBuffer out{inflated_.data(), inflated_.size(), inflated_size_};
    const size_t before = out.pos;
    last = ZSTD_decompressStream(zstd_, &out, &in);
    if (ZSTD_isError(last)) return false;
    inflated_size_ = out.pos;
    if (last != 0 && out.pos == before && out.pos < out.size) return false;  // truncated frame
  }
  return true;
}

bool tokens_equal(std::string_view expected, std::string_view given) {
  unsigned char a[SHA256_DIGEST_LENGTH];
  unsigned char b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(given.data()), given.size(), b);
  return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

boost::system::error_code SessionProtocol::on_hello(std::string_view payload, std::string& reply) {
  const uint32_t max = settings_.max_frame_bytes;
  v1::ClientMessage msg;
  if (!msg.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    append_hello_ack(reply, false, "malformed hello", false, max);
    return make_error_code(Errc::malformed_message);
  }
  if (!msg.has_hello()) {
    append_hello_ack(reply, false, "the first message must be a hello", false, max);
    return make_error_code(Errc::protocol_violation);
  }
  const auto& hello = msg.hello();
  if (hello.protocol_version() != kProtocolVersion) {
    append_hello_ack(reply, false,
                     "unsupported protocol version " + std::to_string(hello.protocol_version()) +
                         "; this aggregator speaks version " + std::to_string(kProtocolVersion),
                     false, max);
    return make_error_code(Errc::handshake_refused);
  }
  if (!settings_.token.empty() && !tokens_equal(settings_.token, hello.token())) {
    append_hello_ack(reply, false, hello.token().empty() ? "a token is required" : "wrong token", false, max);
    return make_error_code(Errc::handshake_refused);
  }
  for (const int c : hello.compressions()) zstd_ = zstd_ || c == v1::COMPRESSION_ZSTD;
  accepted_ = true;
  append_hello_ack(reply, true, {}, zstd_, max);
  return {};
}

boost::system::error_code SessionProtocol::on_frame(std::string_view payload, DecodeScratch& scratch,
                                                    DecodedBatch& out) {
  if (!accepted_) return make_error_code(Errc::protocol_violation);
  // Pick the envelope apart without copying: the last of the oneof wins, as in protobuf.
  WireScanner envelope(payload);
  WireField f;
  WireField chosen;
  while (envelope.next(f)) {
    if (f.number >= 1 && f.number <= 3) {
      if (f.wire_type != 2) return make_error_code(Errc::malformed_message);
      chosen = f;
    }
  }
  if (!envelope.ok()) return make_error_code(Errc::malformed_message);
  std::string_view batch_bytes;
  if (chosen.number == 2) {
    batch_bytes = chosen.bytes;
  } else if (chosen.number == 3) {
    if (!zstd_) return make_error_code(Errc::protocol_violation);
    const size_t limit = static_cast<size_t>(settings_.max_frame_bytes) * 8;
    if (!scratch.inflate(chosen.bytes, limit)) return make_error_code(Errc::malformed_message);
    batch_bytes = scratch.inflated();
  } else {
    return make_error_code(Errc::protocol_violation);  // a second hello, or nothing
  }
  if (batch_bytes.size() > static_cast<size_t>(INT32_MAX)) return make_error_code(Errc::malformed_message);
  out.bytes = batch_bytes;
  if (settings_.discard) {
    out.batch = nullptr;
    if (!scan_batch(batch_bytes, out.sequence, out.entry_count)) return make_error_code(Errc::malformed_message);
  } else {
    BatchView& view = scratch.view();
    out.batch = nullptr;
    if (!decode_batch(batch_bytes, view, settings_.render)) return make_error_code(Errc::malformed_message);
    out.batch = &view;
    out.sequence = view.head.sequence();
    out.entry_count = static_cast<uint32_t>(view.entries.size());
  }
  if (has_sequence_ && out.sequence <= last_sequence_) return make_error_code(Errc::protocol_violation);
  has_sequence_ = true;
  last_sequence_ = out.sequence;
  return {};
}

void append_hello_refusal(std::string& out, std::string_view error, uint32_t max_frame_bytes) {
  append_hello_ack(out, false, error, false, max_frame_bytes);
}

void append_ack_frame(std::string& out, uint64_t sequence, uint32_t stored, uint32_t duplicates,
                      std::string_view rejected_reason) {
  v1::ServerMessage msg;
  auto* ack = msg.mutable_ack();
  ack->set_sequence(sequence);
  ack->set_stored(stored);
  ack->set_duplicates(duplicates);
  if (!rejected_reason.empty()) {
    ack->set_status(v1::ACK_STATUS_REJECTED);
    ack->set_error(std::string(rejected_reason));
  }
  append_frame(out, msg);
}

}  // namespace logferry::aggregator
