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

// The sequence of a batch whose later fields may be malformed: field 1 read
// from the valid fields before the first malformed one.
bool leading_sequence(std::string_view batch, uint64_t& sequence) {
  WireScanner s(batch);
  WireField f;
  bool found = false;
  while (s.next(f)) {
    if (f.number == 1 && f.wire_type == kVarint) {
      sequence = f.varint;
      found = true;
    }
  }
  return found;
}

}  // namespace

std::string_view reject_reason_name(RejectReason reason) {
  switch (reason) {
    case RejectReason::none: return "none";
    case RejectReason::undecodable: return "undecodable";
    case RejectReason::invalid: return "invalid";
    case RejectReason::limit: return "limit";
    case RejectReason::namespace_denied: return "namespace";
  }
  return "none";
}

DecodeScratch::DecodeScratch() : zstd_(make_zstd_decompressor()) {}

DecodeScratch::~DecodeScratch() = default;

void DecodeScratch::shrink() {
  if (inflated_.capacity() > (4u << 20)) {
    std::string().swap(inflated_);
    inflated_size_ = 0;
  }
  shrink_batch_view(view_);
}

bool DecodeScratch::inflate(std::string_view compressed, size_t limit) {
  inflated_size_ = 0;
  if (zstd_ == nullptr) return false;
  ZSTD_DCtx_reset(zstd_.get(), ZSTD_reset_session_only);
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
    last = ZSTD_decompressStream(zstd_.get(), &out, &in);
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
    last = ZSTD_decompressStream(zstd_.get(), &out, &in);
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
  std::optional<NamespaceGrant> by_certificate;
  if (settings_.credentials != nullptr && !certificate_names_.empty()) {
    by_certificate = settings_.credentials->find_certificate(certificate_names_);
  }
  if (by_certificate) {
    grant_ = std::move(*by_certificate);  // the certificate, verified by the handshake, is the credential
  } else if (!settings_.token.empty() || settings_.credentials != nullptr) {
    std::optional<NamespaceGrant> grant;
    if (!settings_.token.empty() && tokens_equal(settings_.token, hello.token())) grant.emplace();
    else if (settings_.credentials != nullptr) grant = settings_.credentials->find(hello.token());
    if (!grant) {
      append_hello_ack(reply, false, hello.token().empty() ? "a token is required" : "wrong token", false, max);
      return make_error_code(Errc::handshake_refused);
    }
    grant_ = std::move(*grant);
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
  out.rejected.clear();
  out.reason = RejectReason::none;
  const auto reject = [&out](RejectReason reason, std::string why) {
    if (why.empty() || !out.rejected.empty()) return;
    out.rejected = std::move(why);
    out.reason = reason;
  };
  if (settings_.discard) {
    out.batch = nullptr;
    if (!scan_batch(batch_bytes, out.sequence, out.entry_count)) return make_error_code(Errc::malformed_message);
  } else {
    BatchView& view = scratch.view();
    out.batch = nullptr;
    if (decode_batch(batch_bytes, view, settings_.render, &settings_.limits)) {
      out.batch = &view;
      out.sequence = view.head.sequence();
      out.entry_count = static_cast<uint32_t>(view.entries.size());
      reject(RejectReason::invalid, check_source_indexes(view));
      if (out.rejected.empty()) reject(RejectReason::limit, check_limits(view, settings_.limits));
      reject(RejectReason::namespace_denied, check_namespaces(view.head, grant_));
    } else {
      // Content the store cannot take: answered, not a reason to drop the connection,
      // as long as the sequence to answer can be read.
      if (!leading_sequence(batch_bytes, out.sequence)) return make_error_code(Errc::malformed_message);
      out.entry_count = 0;
      if (view.over_limit.empty()) {
        reject(RejectReason::undecodable,
               "undecodable batch: not a valid logferry.v1.Batch (e.g. a string that is not UTF-8)");
      } else {
        reject(RejectReason::limit, "batch over a limit: " + view.over_limit);
      }
    }
    if (!out.rejected.empty()) out.batch = nullptr;
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
