#pragma once
// The pipeline's intake: each line is parsed (by the chain the parse stage
// gives its origin) into the current batch, as wire-format bytes: written directly by parsers
// that can (Parser::encode), else filled into a reused v1::Entry and
// serialized. A batch is sealed when it reaches LOGFERRY_BATCH_MAX_ENTRIES or
// _MAX_BYTES, or when its first entry has waited LOGFERRY_BATCH_TIMEOUT, and
// handed to the Forwarder together with the offsets each origin may commit
// when it is acknowledged.
#include <chrono>
#include <map>
#include <memory>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <google/protobuf/arena.h>

#include "logferry/v1/logferry.pb.h"
#include "sidecar/core/pipeline_metrics.hpp"
#include "sidecar/core/batch_policy.hpp"
#include "sidecar/core/labels.hpp"
#include "sidecar/core/origin_metadata.hpp"
#include "sidecar/core/wakeup.hpp"
#include "sidecar/core/wire_buffer.hpp"
#include "sidecar/forward/forwarder.hpp"
#include "sidecar/forward/source_clock.hpp"
#include "sidecar/parse/parse_stage.hpp"
#include "sidecar/parse/parser.hpp"
#include "sidecar/source/source.hpp"

namespace logferry {

class Batcher final : public Intake {
 public:
  // `resource`: the labels of every batch (the Pod's identity). `parse` and
  // `forwarder` must outlive the batcher.
  Batcher(boost::asio::any_io_executor ex, const BatchPolicy& policy, const ParseStage& parse, Labels resource,
          Forwarder& forwarder, PipelineMetrics& metrics);
  ~Batcher() override;

  boost::asio::awaitable<void> wait_for_room() override { co_await forwarder_.wait_for_room(); }
  bool full() const override { return forwarder_.full(); }
  void accept(const OriginPtr& origin, const RawLine& line) override;
  void retire(const OriginPtr& origin) override;
  std::chrono::steady_clock::time_point batch_due() const override {
    return entry_count_ > 0 ? batch_started_ + policy_.timeout : std::chrono::steady_clock::time_point::max();
  }
  void seal_due() override;
  // Replaces the resource labels of the batches sealed from now on (the
  // Pod's labels file changed).
  void set_resource(Labels resource) { resource_ = std::move(resource); }
  // Node mode: each origin's Pod metadata (resource labels, exclusion, parser),
  // looked up once per batch of the origin. `source` must outlive the batcher.
  void set_metadata(const MetadataSource* source) { metadata_ = source; }

  // Seals the batch on time and flushes parser state (multiline) of quiet
  // origins; returns after stop().
  boost::asio::awaitable<void> run();
  // Emits every origin's held parser state and seals the current batch (drain).
  void flush_all();
  void stop();

 private:
  struct OriginState {
    std::unique_ptr<Parser> parser;
    bool holding = false;        // the parser holds lines starting at hold_start
    uint64_t hold_start = 0;
    uint64_t commit_offset = 0;  // everything before it is in sealed or current batches
    uint32_t batch_index = 0;    // index in the current batch's sources, valid when in_batch
    bool in_batch = false;
    std::chrono::steady_clock::time_point last_line;
    SourceClock clock;           // observed and event times, in file order
    // From the MetadataSource, as of meta_version; the chain was built for
    // chain_parser/chain_multiline.
    OriginMetadata meta;
    uint64_t meta_version = 0;
    bool meta_valid = false;
    std::string chain_parser, chain_multiline;
  };

  // The clock of the current event-loop turn. A read pass hands thousands of
  // lines over within microseconds, and a clock read costs more than the rest
  // of a plain line's intake here, so it is read once per turn, not per line.
  struct TurnClock {
    uint64_t unix_nano = 0;
    std::chrono::steady_clock::time_point steady;
    bool valid = false;
  };
  const TurnClock& turn_clock();
  OriginState& state_for(const OriginPtr& origin);
  // Looks the origin's metadata up again when the source's version moved, and
  // rebuilds its chain for a parser its owner newly asked for (not while a
  // record is held).
  void refresh_metadata(const OriginPtr& origin, OriginState& st);
  // Emits every record the origin's parser chain holds; true when any was emitted.
  bool flush_origin(const OriginPtr& origin, OriginState& st);
  // Where an entry being written starts in entries_, and its open message.
  struct Slot {
    size_t begin = 0;
    size_t mark = 0;
  };
  // Adds the origin to the batch's sources (once) and opens an entry.
  Slot new_entry(const OriginPtr& origin, OriginState& st);
  // Orders the entry's event time (SourceClock), writes the fields the batcher
  // owns and closes the entry. `read_unix_nano`: when the line was read (0 = now).
  void finish_entry(ParseResult r, Slot slot, OriginState& st, uint64_t entry_offset, bool truncated,
                    uint64_t read_unix_nano = 0);
  void drop_entry(Slot slot) { entries_.truncate(slot.begin); }
  void seal();
  void start_batch();

  boost::asio::any_io_executor ex_;
  const BatchPolicy& policy_;
  const ParseStage& parse_;
  Forwarder& forwarder_;
  PipelineMetrics& metrics_;
  const MetadataSource* metadata_ = nullptr;
  std::map<OriginPtr, OriginState> origins_;
  std::vector<std::pair<OriginPtr, OriginState*>> batch_origins_;
  google::protobuf::Arena arena_;
  v1::Batch* batch_ = nullptr;  // the sources; the entries are in entries_
  WireBuffer entries_;          // Batch.entries, wire format
  uint32_t entry_count_ = 0;
  v1::Entry entry_;             // reused by parsers that fill a message
  std::chrono::steady_clock::time_point batch_started_;
  TurnClock clock_;
  Labels resource_;
  Wakeup wake_;
  bool stopping_ = false;
};

}  // namespace logferry
