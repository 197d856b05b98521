#include "sidecar/forward/batcher.hpp"

#include <algorithm>
#include <cstring>

#include <boost/asio/post.hpp>

#include "sidecar/core/clock.hpp"
#include "sidecar/core/logger.hpp"
#include "sidecar/parse/entry_writer.hpp"

namespace logferry {

namespace asio = boost::asio;

namespace {

// How long after a batch is due its own timer seals it, when no source did.
constexpr auto kSealGrace = std::chrono::milliseconds(2);

// Reads a varint at `p`; nullptr when it does not end before `end`.
const char* read_varint(const char* p, const char* end, uint64_t& v) {
  v = 0;
  for (int shift = 0; p < end && shift < 64; shift += 7) {
    const auto b = static_cast<unsigned char>(*p++);
    v |= uint64_t{b & 0x7fu} << shift;
    if (b < 0x80) return p;
  }
  return nullptr;
}

// Where the value of the entry's time_unix_nano (v1::Entry field 1, fixed64)
// is in `fields` (the entry's fields), or npos when it has none. The last one
// wins, as in protobuf. The fields are the batcher's own writing (a parser's
// encode() or a serialized v1::Entry); this walk over their tags costs a
// fraction of what google::protobuf::io::CodedInputStream does per line.
size_t find_event_time(std::string_view fields) {
  const char* const begin = fields.data();
  const char* const end = begin + fields.size();
  size_t found = std::string_view::npos;
  for (const char* p = begin; p < end;) {
    uint64_t tag, n;
    p = read_varint(p, end, tag);
    if (p == nullptr) return std::string_view::npos;
    switch (tag & 7) {
      case 0: p = read_varint(p, end, n); break;  // varint
      case 1: p = end - p >= 8 ? p + 8 : nullptr; break;  // fixed64
      case 2: p = read_varint(p, end, n), p = p && n <= static_cast<uint64_t>(end - p) ? p + n : nullptr; break;
      case 5: p = end - p >= 4 ? p + 4 : nullptr; break;  // fixed32
      default: return std::string_view::npos;
    }
    if (p == nullptr) return std::string_view::npos;
    if (tag == ((1 << 3) | 1)) found = static_cast<size_t>(p - 8 - begin);
  }
  return found;
}

}  // namespace

Batcher::Batcher(asio::any_io_executor ex, const BatchPolicy& policy, const ParseStage& parse, Labels resource,
                 Forwarder& forwarder, PipelineMetrics& metrics)
    : ex_(ex),
      policy_(policy),
      parse_(parse),
      forwarder_(forwarder),
      metrics_(metrics),
      resource_(std::move(resource)),
      wake_(ex) {
  start_batch();
}

Batcher::~Batcher() = default;

void Batcher::start_batch() {
  arena_.Reset();
  batch_ = google::protobuf::Arena::CreateMessage<v1::Batch>(&arena_);
  entries_.clear();
  entry_count_ = 0;
  batch_origins_.clear();
}

const Batcher::TurnClock& Batcher::turn_clock() {
  if (!clock_.valid) {
    clock_ = TurnClock{now_unix_nano(), std::chrono::steady_clock::now(), true};
    // One thread runs the io_context: the turn ends when the caller yields.
    asio::post(ex_, [this] { clock_.valid = false; });
  }
  return clock_;
}

Batcher::OriginState& Batcher::state_for(const OriginPtr& origin) {
  auto it = origins_.find(origin);
  if (it == origins_.end()) {
    OriginState st;
    st.parser = parse_.chain_for(*origin);
    st.commit_offset = origin->read_offset;
    it = origins_.emplace(origin, std::move(st)).first;
  }
  return it->second;
}

void Batcher::refresh_metadata(const OriginPtr& origin, OriginState& st) {
  const uint64_t version = metadata_->version();
  if (!st.meta_valid || st.meta_version != version) {
    OriginMetadata fresh = metadata_->lookup(*origin);
    // A file belongs to one Pod for good: once the Pod has left the cache
    // (deleted a while ago), its files keep its last metadata until released.
    if (fresh.known || !st.meta.known) st.meta = std::move(fresh);
    st.meta_version = version;
    st.meta_valid = true;
  }
  if (st.holding || (st.meta.parser == st.chain_parser && st.meta.multiline == st.chain_multiline)) return;
  st.parser = parse_.chain_for(*origin, st.meta.parser, st.meta.multiline);
  st.chain_parser = st.meta.parser;
  st.chain_multiline = st.meta.multiline;
}

Batcher::Slot Batcher::new_entry(const OriginPtr& origin, OriginState& st) {
  if (!st.in_batch) {
    st.in_batch = true;
    st.batch_index = static_cast<uint32_t>(batch_->sources_size());
    auto* src = batch_->add_sources();
    src->set_id(origin->id);
    src->set_path(origin->path);
    for (const auto* labels : {&origin->resource, &st.meta.resource}) {
      for (const auto& [k, v] : *labels) {
        auto* kv = src->add_resource();
        kv->set_key(k);
        kv->mutable_value()->set_string_value(v);
      }
    }
    batch_origins_.emplace_back(origin, &st);
  }
  Slot slot;
  slot.begin = entries_.size();
  slot.mark = entries_.open(4);  // Batch.entries
  return slot;
}

void Batcher::finish_entry(ParseResult r, Slot slot, OriginState& st, uint64_t entry_offset, bool truncated,
                           uint64_t read_unix_nano) {
  const std::string_view fields = entries_.view().substr(slot.mark);
  if (const size_t pos = find_event_time(fields); pos != std::string_view::npos) {
    char* at = entries_.data() + slot.mark + pos;
    uint64_t t;
    std::memcpy(&t, at, 8);  // little-endian, as WireBuffer writes it
    const uint64_t ordered = st.clock.order_event(t);
    if (ordered != t) std::memcpy(at, &ordered, 8);
  }
  // Field numbers of v1::Entry. Repeated attributes concatenate, so
  // log.truncated follows the parser's attributes.
  if (truncated) {
    const size_t kv = entries_.open(6);
    entries_.bytes(1, "log.truncated");
    const size_t value = entries_.open(2);
    entries_.varint(2, 1);  // AnyValue.bool_value
    entries_.close(value);
    entries_.close(kv);
  }
  // Sources stamp each read's lines (RawLine::read_unix_nano); the turn's
  // clock is for flushed records and the lines of an Intake's other callers.
  const uint64_t observed = st.clock.observe(read_unix_nano != 0 ? read_unix_nano : turn_clock().unix_nano);
  entries_.fixed64(11, observed);  // observed_time_unix_nano
  if (st.batch_index != 0) entries_.varint(100, st.batch_index);
  if (entry_offset != 0) entries_.varint(101, entry_offset);
  entries_.close(slot.mark);
  if (entry_count_++ == 0) batch_started_ = std::chrono::steady_clock::now();
  if (r == ParseResult::parse_error) ++metrics_.parse_errors;
}

void Batcher::accept(const OriginPtr& origin, const RawLine& line) {
  OriginState& st = state_for(origin);
  if (metadata_ != nullptr) {
    if (!st.in_batch) refresh_metadata(origin, st);  // once per batch of the origin
    if (st.meta.exclude) {
      metrics_.dropped_lines["excluded"]++;
      if (!st.holding) st.commit_offset = line.end_offset;
      return;
    }
    if (!st.meta.known) ++metrics_.lines_without_metadata;
  }
  st.last_line = line.read_steady != std::chrono::steady_clock::time_point{} ? line.read_steady : turn_clock().steady;
  const Slot slot = new_entry(origin, st);
  const ParseResult r = parse_to_wire(*st.parser, line.text, entry_, entries_);
  const bool was_holding = st.holding;
  switch (r) {
    case ParseResult::parsed:
    case ParseResult::parse_error:
      finish_entry(r, slot, st, st.holding ? st.hold_start : line.offset, line.truncated, line.read_unix_nano);
      st.holding = false;
      st.commit_offset = line.end_offset;
      break;
    case ParseResult::parsed_holding_line:
      finish_entry(r, slot, st, st.hold_start, false);
      st.hold_start = line.offset;
      st.holding = true;
      st.commit_offset = line.offset;
      break;
    case ParseResult::pending:
      drop_entry(slot);
      if (!st.holding) {
        st.holding = true;
        st.hold_start = line.offset;
      }
      break;
    case ParseResult::dropped:
      drop_entry(slot);
      metrics_.dropped_lines["filter"]++;
      if (!st.holding) st.commit_offset = line.end_offset;
      break;
  }
  if (entry_count_ >= policy_.max_entries || entries_.size() >= policy_.max_bytes) {
    seal();
  } else if (entry_count_ == 1 || (st.holding && !was_holding)) {
    wake_.notify();  // a batch or a held record needs its timer
  }
}

bool Batcher::flush_origin(const OriginPtr& origin, OriginState& st) {
  // A chain may hold several records (e.g. a flushed partial line that the
  // multiline stage then holds): flush until it reports nothing more.
  bool emitted = false;
  uint64_t offset = st.hold_start;
  for (int round = 0; round < 64; ++round) {
    const Slot slot = new_entry(origin, st);
    entry_.Clear();
    const ParseResult r = st.parser->flush(entry_);
    if (r == ParseResult::pending || r == ParseResult::dropped) {
      drop_entry(slot);
      break;
    }
    append_entry(entries_, entry_);
    // Offsets are idempotency keys and must grow: a later record of the same
    // flush starts after the first byte of the previous one.
    finish_entry(r, slot, st, offset, false);
    ++offset;
    emitted = true;
  }
  st.holding = false;
  st.commit_offset = std::max(st.commit_offset, origin->read_offset);
  return emitted;
}

void Batcher::retire(const OriginPtr& origin) {
  auto it = origins_.find(origin);
  if (it == origins_.end()) return;
  OriginState& st = it->second;
  flush_origin(origin, st);
  // Sealing now lets the origin's last commit travel with this batch.
  seal();
  origins_.erase(it);
}

void Batcher::seal() {
  if (batch_->sources_size() == 0) return;
  auto sealed = std::make_shared<SealedBatch>();
  for (auto& [origin, st] : batch_origins_) {
    batch_->mutable_sources(static_cast<int>(st->batch_index))->set_end_offset(st->commit_offset);
    sealed->commits.emplace_back(origin, st->commit_offset);
    st->in_batch = false;
  }
  forwarder_.push(*batch_, resource_, std::move(sealed), entries_.view(), entry_count_);
  start_batch();
}

void Batcher::seal_due() {
  if (entry_count_ == 0 || std::chrono::steady_clock::now() < batch_due()) return;
  seal();
  wake_.notify();  // run() sets its timer again (no batch open: none) in this turn, no wake-up of its own
}

void Batcher::flush_all() {
  for (auto& [origin, st] : origins_) {
    if (st.holding) flush_origin(origin, st);
  }
  seal();
}

void Batcher::stop() {
  stopping_ = true;
  wake_.notify();
}

asio::awaitable<void> Batcher::run() {
  // Sleeps until the open batch is due (its first entry waited
  // LOGFERRY_BATCH_TIMEOUT) or a held multiline record is; with nothing open
  // or held it sleeps until accept() starts a batch: no wake-up of its own.
  const auto multiline_timeout = parse_.flush_timeout();
  while (!stopping_) {
    // A moment after the batch is due: a source holding its reads until then
    // reads and seals it first (seal_due), in the same wake-up; else this does.
    auto deadline = std::chrono::steady_clock::time_point::max();
    if (entry_count_ > 0) deadline = batch_due() + kSealGrace;
    if (multiline_timeout.count() > 0) {
      for (const auto& [origin, st] : origins_)
        if (st.holding) deadline = std::min(deadline, st.last_line + multiline_timeout);
    }
    co_await wake_.wait_until(deadline);
    const auto now = std::chrono::steady_clock::now();
    if (entry_count_ > 0 && now >= batch_due() + kSealGrace) seal();
    if (multiline_timeout.count() > 0) {
      bool flushed = false;
      for (auto& [origin, st] : origins_) {
        if (!st.holding || now - st.last_line < multiline_timeout) continue;
        flushed = flush_origin(origin, st) || flushed;
      }
      if (flushed) seal();
    }
  }
}

}  // namespace logferry
