// libFuzzer target: arbitrary bytes through the aggregator's receive path
// without sockets: framing, the hello check, envelope and batch decoding
// (plain, zstd, discard-mode scan), validation and ndjson rendering (the wire
// renderer checked against the message tree's).
#include <cstddef>
#include <cstdint>
#include <string>

#include "aggregator/entry_json.hpp"
#include "aggregator/entry_wire.hpp"
#include "aggregator/session_protocol.hpp"
#include "sidecar/core/json_escape.hpp"
#include "sidecar/forward/framing.hpp"
#include "support/entry_line_oracle.hpp"

using namespace logferry;
using namespace logferry::aggregator;

namespace {

// Renders a decoded batch the way the store does (without the files), and
// checks the wire renderer against the message tree's.
void render(const BatchView& batch, std::string_view bytes, std::string& out) {
  v1::Batch parsed;
  if (!parsed.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) __builtin_trap();
  if (static_cast<size_t>(parsed.entries_size()) != batch.entries.size()) __builtin_trap();
  std::string resource;
  append_key_values_json(resource, batch.head.resource());
  std::vector<std::string> ids(static_cast<size_t>(batch.head.sources_size()));
  std::vector<std::string> paths(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    append_json_string(ids[i], batch.head.sources(static_cast<int>(i)).id());
    append_json_string(paths[i], batch.head.sources(static_cast<int>(i)).path());
  }
  std::string tree;
  for (size_t n = 0; n < batch.entries.size(); ++n) {
    const EntryView& e = batch.entries[n];
    const LineContext context{ids[e.key.source_index], paths[e.key.source_index], resource};
    LineFrame frame;
    build_frame(context, frame);
    const size_t start = out.size();
    append_line(out, batch, e, frame);
    LineKey key;
    if (!parse_line_key(std::string_view(out).substr(start), key) || key.offset != e.key.offset) __builtin_trap();
    tree.clear();
    test::append_entry_line(tree, parsed.entries(static_cast<int>(n)), context);
    if (std::string_view(out).substr(start) != tree) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static DecodeScratch scratch;
  if (size == 0) return 0;
  // The first byte picks the options: token required, discard mode, skip the
  // hello (pre-accepted session), zstd agreed, and the size of the pieces fed.
  const uint8_t flags = data[0];
  ++data, --size;
  ProtocolSettings settings;
  settings.max_frame_bytes = 64 * 1024;
  settings.token = (flags & 1) ? "token" : "";
  settings.discard = (flags & 2) != 0;
  SessionProtocol session(settings);
  std::string reply;
  if (flags & 4) {
    v1::ClientMessage hello;
    hello.mutable_hello()->set_protocol_version(kProtocolVersion);
    hello.mutable_hello()->set_token(settings.token);
    if (flags & 8) hello.mutable_hello()->add_compressions(v1::COMPRESSION_ZSTD);
    if (session.on_hello(hello.SerializeAsString(), reply)) __builtin_trap();
  }
  const size_t piece = 1 + (flags >> 4) * 7;
  FrameDecoder decoder(settings.max_frame_bytes);
  std::string payload;
  std::string lines;
  DecodedBatch decoded;
  for (size_t pos = 0; pos < size; pos += piece) {
    decoder.feed(std::string_view(reinterpret_cast<const char*>(data) + pos, std::min(piece, size - pos)));
    for (;;) {
      const auto status = decoder.next(payload);
      if (status == FrameDecoder::Status::too_large) return 0;  // the server closes here
      if (status == FrameDecoder::Status::need_more) break;
      if (!session.accepted()) {
        reply.clear();
        if (session.on_hello(payload, reply)) return 0;
        if (reply.size() < kFrameHeaderBytes) __builtin_trap();
        continue;
      }
      if (session.on_frame(payload, scratch, decoded)) return 0;
      if (decoded.batch == nullptr) continue;
      if (!validate_batch(*decoded.batch).empty()) continue;
      lines.clear();
      render(*decoded.batch, decoded.bytes, lines);
      reply.clear();
      append_ack_frame(reply, decoded.sequence, decoded.entry_count, 0);
    }
  }
  return 0;
}
