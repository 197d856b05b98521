#pragma once
// The sidecar never sends a batch the aggregator refuses, whatever the file
// names, labels and line contents: arbitrary bytes pick them, the sidecar's
// own entry points (load_config, file_origin, the Batcher and Forwarder)
// encode them, and the aggregator's session protocol (on_hello, on_frame,
// validate_batch) must take every frame. The unit test runs it over seeded
// random inputs; tests/fuzz/fuzz_sidecar_batches.cpp is its libFuzzer target.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "aggregator/session_protocol.hpp"
#include "logferry/v1/logferry.pb.h"
#include "sidecar/core/pipeline_metrics.hpp"
#include "sidecar/config/config.hpp"
#include "sidecar/parse/registry.hpp"
#include "sidecar/core/event.hpp"
#include "sidecar/forward/batcher.hpp"
#include "sidecar/forward/forwarder.hpp"
#include "sidecar/forward/framing.hpp"
#include "sidecar/forward/tcp_session.hpp"
#include "sidecar/source/file_source.hpp"

namespace logferry::fuzz {

// Reads length-prefixed pieces of the input (one byte of length; bytes past
// the end read as empty).
class Pieces {
 public:
  Pieces(const uint8_t* data, size_t size) : p_(reinterpret_cast<const char*>(data)), left_(size) {}
  uint8_t byte() {
    if (left_ == 0) return 0;
    --left_;
    return static_cast<uint8_t>(*p_++);
  }
  std::string text(bool no_nul = false) {
    const size_t n = std::min<size_t>(byte(), left_);
    std::string s(p_, n);
    p_ += n, left_ -= n;
    if (no_nul) std::erase(s, '\0');  // an environment value or file name cannot hold NUL
    return s;
  }
  bool empty() const { return left_ == 0; }

 private:
  const char* p_;
  size_t left_;
};

// Captures what the Forwarder writes; never answers (nothing is re-sent).
class CaptureSink final : public Sink {
 public:
  explicit CaptureSink(boost::asio::any_io_executor ex) : idle_(ex) {}
  struct Session final : SinkSession {
    CaptureSink& sink;
    explicit Session(CaptureSink& s) : sink(s) {}
    boost::asio::awaitable<boost::system::error_code> write(const SealedBatch& b) override {
      sink.payloads.push_back(b.payload);
      co_return boost::system::error_code{};
    }
    boost::asio::awaitable<boost::system::result<DeliveryReport>> read_report() override {
      co_await sink.idle_.wait();
      co_return make_error_code(Errc::closed);
    }
    void close() override { sink.idle_.notify(); }
  };
  boost::asio::awaitable<boost::system::result<std::unique_ptr<SinkSession>>> open() override {
    co_return std::make_unique<Session>(*this);
  }
  size_t max_in_flight() const override { return 1024; }
  std::string describe() const override { return "capture://"; }
  std::vector<std::string> payloads;

 private:
  Event idle_;
};

inline const std::string& state_dir() {
  static const std::string dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "logferry-fuzz-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    return tmpl;
  }();
  return dir;
}

// Returns false when the aggregator would refuse a batch the sidecar built
// from `data` (a configuration the sidecar refuses is not a failure).
inline bool sidecar_batches_accepted(const uint8_t* data, size_t size, std::string* why = nullptr) {
  static constexpr const char* kParsers[] = {"plain", "json", "logfmt", "cri", "docker", "klog", "syslog", "auto"};
  Pieces in(data, size);
  const uint8_t flags = in.byte();
  Environment env{{"LOGFERRY_FILES", "/logs/*.log"},
                  {"LOGFERRY_OUTPUT", "tcp://127.0.0.1:1"},
                  {"LOGFERRY_CHECKPOINT_DIR", state_dir()},
                  {"LOGFERRY_MAX_IN_FLIGHT", "1024"},
                  {"LOGFERRY_BATCH_MAX_ENTRIES", "7"},
                  {"LOGFERRY_MODE", (flags & 1) ? "node" : "sidecar"},
                  {"LOGFERRY_PARSER", kParsers[(flags >> 1) % 8]},
                  {"POD_NAME", in.text(true)},
                  {"POD_NAMESPACE", in.text(true)},
                  {"CONTAINER_NAME", in.text(true)},
                  {"LOGFERRY_LABELS", in.text(true)}};
  auto loaded = load_config(env, parser_catalog());
  if (!loaded.errors.empty()) {
    env.erase("LOGFERRY_LABELS");  // most label texts are not key=value lists
    loaded = load_config(env, parser_catalog());
    if (!loaded.errors.empty()) return true;
  }
  const Config& config = loaded.config;
  boost::asio::io_context io;
  PipelineMetrics metrics;
  CaptureSink sink(io.get_executor());
  Forwarder forwarder(io.get_executor(), sink, config.output, metrics);
  const ParseStage parse(config.parse, &metrics.multiline_records);
  Batcher batcher(io.get_executor(), config.batch, parse, config.identity.resource_labels(), forwarder, metrics);
  std::vector<OriginPtr> origins;
  const size_t sources = 1 + (flags >> 4) % 3;
  for (size_t i = 0; i < sources; ++i) {
    std::string name = in.text(true);
    std::erase(name, '/');
    origins.push_back(file_origin("file:1:" + std::to_string(i) + ":" + in.text(), "/logs/" + name + ".log", config.files.mode));
  }
  std::vector<uint64_t> offsets(origins.size(), 0);
  while (!in.empty()) {
    const size_t i = in.byte() % origins.size();
    const std::string line = in.text();
    const uint64_t end = offsets[i] + line.size() + 1;
    origins[i]->read_offset = end;
    batcher.accept(origins[i], RawLine{line, offsets[i], end, false});
    offsets[i] = end;
  }
  batcher.flush_all();
  const size_t queued = forwarder.queued_batches();
  boost::asio::co_spawn(io, forwarder.run(), boost::asio::detached);
  for (int turn = 0; turn < 1000 && sink.payloads.size() < queued; ++turn) io.poll();
  forwarder.stop();
  for (int turn = 0; turn < 100; ++turn) io.poll();
  if (sink.payloads.size() != queued) {
    if (why) *why = "not every batch was written";
    return false;
  }

  // The aggregator's side: a hello, then each batch as the TCP session frames it.
  aggregator::ProtocolSettings settings;
  aggregator::SessionProtocol protocol(settings);
  static aggregator::DecodeScratch scratch;
  v1::ClientMessage hello;
  hello.mutable_hello()->set_protocol_version(kProtocolVersion);
  std::string reply;
  if (protocol.on_hello(hello.SerializeAsString(), reply)) {
    if (why) *why = "hello refused";
    return false;
  }
  for (const auto& payload : sink.payloads) {
    std::string frame = batch_frame_header(2, payload.size()) + payload;
    aggregator::DecodedBatch decoded;
    if (const auto ec = protocol.on_frame(std::string_view(frame).substr(kFrameHeaderBytes), scratch, decoded)) {
      if (why) *why = "frame refused: " + ec.message();
      return false;
    }
    if (decoded.batch == nullptr) {
      if (why) *why = "no batch decoded";
      return false;
    }
    if (auto reason = aggregator::validate_batch(*decoded.batch); !reason.empty()) {
      if (why) *why = "batch rejected: " + reason;
      return false;
    }
  }
  return true;
}

}  // namespace logferry::fuzz
