#pragma once
// The aggregator's side of the native protocol without sockets: the hello
// check, decoding of batch frames (plain or zstd), sequence checks and the
// replies. The server drives it from a connection; the fuzzer drives it from
// arbitrary bytes.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/error_code.hpp>

#include "aggregator/batch_view.hpp"
#include "aggregator/credentials.hpp"
#include "sidecar/core/zstd_context.hpp"

namespace logferry::aggregator {

// The largest hello frame read from a connection not yet authenticated (a
// token of a few KiB fits); a longer one closes the connection unread.
inline constexpr uint32_t kMaxHelloBytes = 8u << 10;

struct ProtocolSettings {
  uint32_t max_frame_bytes = 16u << 20;
  std::string token;     // "" = none required
  bool discard = false;  // count entries without decoding them
  bool render = true;    // render each entry's ndjson line while decoding (for a store)
  BatchLimits limits;    // caps on a batch's contents (over one: REJECTED)
  Credentials* credentials = nullptr;  // per-namespace tokens; nullptr = none
};

// Buffers for decoding reused across frames and connections of one thread:
// the batch view, the decompression context and its output.
class DecodeScratch {
 public:
  DecodeScratch();
  ~DecodeScratch();
  DecodeScratch(const DecodeScratch&) = delete;
  DecodeScratch& operator=(const DecodeScratch&) = delete;

  // Decompresses a zstd payload into inflated(); false when it is corrupt or
  // would exceed `limit` bytes.
  bool inflate(std::string_view compressed, size_t limit);
  std::string_view inflated() const { return {inflated_.data(), inflated_size_}; }
  // The view the last batch was decoded into.
  BatchView& view() { return view_; }
  // Releases the buffers an unusually large frame grew (after its batch is handled).
  void shrink();

 private:
  BatchView view_;
  ZstdDecompressor zstd_;
  std::string inflated_;
  size_t inflated_size_ = 0;
};

// Why a batch is acknowledged as REJECTED (the label of the aggregator's
// batch_rejections_total).
enum class RejectReason { none, undecodable, invalid, limit, namespace_denied };

// The label value of a reason: "undecodable", "invalid", "limit", "namespace".
std::string_view reject_reason_name(RejectReason reason);

// What a batch frame decoded to.
struct DecodedBatch {
  uint64_t sequence = 0;
  uint32_t entry_count = 0;
  const BatchView* batch = nullptr;  // nullptr in discard mode (only counted)
  std::string_view bytes;            // the serialized Batch (valid until the next frame)
  std::string rejected;              // "" unless the batch is to be acknowledged as REJECTED, and why
  RejectReason reason = RejectReason::none;  // set with `rejected`
};

class SessionProtocol {
 public:
  // `certificate_names`: certificate_names() of the client's verified TLS
  // certificate; a credentials line naming one grants its namespaces without a token.
  explicit SessionProtocol(const ProtocolSettings& settings, std::vector<std::string> certificate_names = {})
      : settings_(settings), certificate_names_(std::move(certificate_names)) {}

  // Handles the first frame and appends the HelloAck frame to `reply`.
  // Returns {} when accepted; malformed_message, protocol_violation or
  // handshake_refused otherwise (the reply then carries the reason).
  boost::system::error_code on_hello(std::string_view payload, std::string& reply);

  // Decodes a frame after the hello. A batch whose contents cannot be taken
  // (undecodable, a string that is not UTF-8, over the limits, a namespace the
  // credential does not grant) comes back with out.rejected set: it is to be
  // acknowledged as REJECTED, the connection goes on. Errors (the connection
  // must close): malformed_message (an envelope or compression that cannot be
  // read, no readable sequence), protocol_violation (not a batch, sequence not
  // increasing, compression not agreed).
  boost::system::error_code on_frame(std::string_view payload, DecodeScratch& scratch, DecodedBatch& out);

  bool accepted() const { return accepted_; }
  // The namespaces this client's credential may write (after the hello).
  const NamespaceGrant& grant() const { return grant_; }
  bool compressed() const { return zstd_; }

 private:
  const ProtocolSettings& settings_;
  std::vector<std::string> certificate_names_;
  bool accepted_ = false;
  NamespaceGrant grant_;
  bool zstd_ = false;
  bool has_sequence_ = false;
  uint64_t last_sequence_ = 0;
};

// Appends a HelloAck frame refusing the hello with `error` (e.g. no session free).
void append_hello_refusal(std::string& out, std::string_view error, uint32_t max_frame_bytes);

// Appends a ServerMessage{Ack} frame.
void append_ack_frame(std::string& out, uint64_t sequence, uint32_t stored, uint32_t duplicates,
                      std::string_view rejected_reason = {});

// Compares tokens in constant time (independent of where they differ and of their lengths).
bool tokens_equal(std::string_view expected, std::string_view given);

}  // namespace logferry::aggregator
