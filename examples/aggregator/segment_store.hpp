#pragma once
// Stores entries as ndjson lines in size-rotated segments under
// DATA_DIR/<namespace>/<pod>/segment-NNNNNN.ndjson, at most once per
// idempotency key (source id, offset). The dedupe state (per pod directory and
// source id, the highest offset stored) is rebuilt on open from the segments
// themselves, so it always agrees with the data.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include "aggregator/aggregator_config.hpp"
#include "aggregator/aggregator_metrics.hpp"
#include "aggregator/batch_view.hpp"
#include "aggregator/group_commit.hpp"
#include "aggregator/store_path.hpp"
#include "logferry/v1/logferry.pb.h"
#include "sidecar/core/event.hpp"

namespace logferry::aggregator {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// Cuts a partial trailing line (no final '\n') off the file; returns the bytes removed.
uint64_t truncate_partial_line(int fd, uint64_t size);

struct AppendResult {
  boost::system::error_code ec;  // set when the batch could not be written (nothing is stored)
  uint32_t stored = 0;
  uint32_t duplicates = 0;
  uint64_t ticket = 0;  // wait for durable(ticket) before acknowledging
};

struct StoreOptions {
  std::string data_dir;
  uint64_t segment_max_bytes = 64u << 20;
  FsyncPolicy fsync = FsyncPolicy::always;
  StoreMode mode = StoreMode::owner;  // permissions of what the store creates
  size_t max_open_segments = 256;     // segment files kept open (least recently used closed first)
};

// The file name of segment `index` (segment-000001.ndjson).
std::string segment_file_name(uint32_t index);

// What the store holds for one Pod directory (see SegmentStore::for_each_pod).
struct PodSegments {
  std::string_view key;                       // "<dir>/<dir>" under DATA_DIR
  const std::filesystem::path& dir;
  const std::map<uint32_t, uint64_t>& sizes;  // segment index -> bytes written (complete lines)
  uint32_t current = 0;                       // the segment appends go to (0: none yet)
};

class SegmentStore {
 public:
  SegmentStore(boost::asio::any_io_executor executor, StoreOptions options, AggregatorMetrics& metrics);

  // Scans the existing segments: truncates partial trailing lines and rebuilds
  // the dedupe state. Returns "" or what went wrong (start-up only).
  std::string open();

  // Appends the batch's new entries with one write per Pod directory;
  // duplicates are counted and dropped. Entries go under their source's
  // effective resource (Batch.resource extended by Source.resource), so a node
  // agent's batch may fill several Pods. The batch must have passed validate_batch().
  // A non-empty `dir_key` ("<dir>/<dir>" under DATA_DIR) stores every entry
  // there instead, whatever the labels say: the aggregator's own stores.
  AppendResult append(const BatchView& batch, std::string_view dir_key = {});
  // The same for a parsed batch (low volumes: audit events, tests).
  AppendResult append(const v1::Batch& batch, std::string_view dir_key = {});

  bool durable(uint64_t ticket) const { return commit_.durable(ticket); }
  bool failed() const { return commit_.failed(); }
  Event& durable_event() { return commit_.event(); }

  // Syncs every open segment and stops the sync thread.
  void close();

  // The highest offset stored for a source of the Pod labelled <ns>/<pod>, if any (for tests).
  std::optional<uint64_t> highest_offset(std::string_view ns, std::string_view pod, std::string_view source_id) const;
  // The same for the directory DATA_DIR/<dir_key>.
  std::optional<uint64_t> highest_offset_at(std::string_view dir_key, std::string_view source_id) const;
  // Segment files open now (at most StoreOptions::max_open_segments, plus those still syncing).
  size_t open_segments() const { return open_.size(); }
  // "" while the store can write; else what failed last (cleared by the next successful write).
  const std::string& write_error() const { return write_error_; }

  // Every Pod directory with its segments, in no particular order.
  void for_each_pod(const std::function<void(const PodSegments&)>& visit) const;
  // The segments of one Pod directory; nullptr when unknown.
  const std::map<uint32_t, uint64_t>* segments_of(std::string_view dir_key) const;
  // Deletes a segment (the current one too: appends then go on in a new one).
  // The Pod's dedupe state is saved first, so re-sent entries stay duplicates.
  // Returns the bytes freed; an error when the state could not be saved
  // (nothing deleted then).
  boost::system::result<uint64_t> remove_segment(std::string_view dir_key, uint32_t index);
  // Bytes in all segments.
  uint64_t total_bytes() const { return total_bytes_; }
  // Notified after every append that stored something.
  Event& appended_event() { return appended_; }
  // The retention's size cap (0: none). While the store is over it, full() is
  // true and connections wait for room_event() before reading another batch:
  // the sidecars are slowed down until the retention deleted enough.
  void set_cap(uint64_t max_bytes) { cap_ = max_bytes; }
  bool full() const { return cap_ != 0 && total_bytes_ > cap_; }
  Event& room_event() { return room_; }

  // Lines found by open() (for tests and the start-up log).
  uint64_t recovered_lines() const { return recovered_lines_; }

 private:
  struct Pod {
    std::filesystem::path dir;
    uint32_t segment_index = 0;  // 0: no segment yet
    uint64_t segment_size = 0;
    SegmentFilePtr segment;      // opened on first append, closed when least recently used
    std::list<Pod*>::iterator lru;  // its place in open_, when segment is set
    StringMap<uint64_t> highest;  // source id (as a JSON string literal) -> highest offset
    std::map<uint32_t, uint64_t> sizes;  // every segment on disk -> its size
  };

  // One Pod's share of a batch split by effective resource.
  struct Part {
    v1::Batch head;
    std::vector<EntryView> entries;
  };
  // Appends entries (rendered in `batch`) that all share head.resource (one Pod).
  AppendResult append_one(const v1::Batch& head, const std::vector<EntryView>& entries, const BatchView& batch,
                          std::string_view dir_key);
  Pod& pod_for(const v1::Batch& head, std::string_view dir_key);
  // Marks the pod's segment as the most recently used, closing the least recently used beyond the limit.
  void touch(Pod& pod);
  void note_write_error(const boost::system::error_code& ec, const std::string& what);
  // Releases per-batch buffers that an unusually large batch grew.
  void shrink_buffers();
  boost::system::error_code ensure_segment(Pod& pod, size_t incoming);
  std::string scan_pod(Pod& pod);
  // Reads DIR/dedupe-state (written before segments are deleted) into the Pod.
  std::string load_state(Pod& pod);
  boost::system::error_code save_state(const Pod& pod);

  StoreOptions options_;
  AggregatorMetrics& metrics_;
  GroupCommit commit_;
  StringMap<Pod> pods_;  // "<ns>/<pod>" -> state
  std::list<Pod*> open_;  // pods with an open segment, most recently used first
  std::string write_error_;
  uint64_t recovered_lines_ = 0;
  uint64_t total_bytes_ = 0;
  Event appended_;
  Event room_;
  uint64_t cap_ = 0;

  // Reused per batch.
  BatchView parsed_view_;  // append(const v1::Batch&)
  std::string pod_key_;
  std::string resource_json_;
  std::string path_json_;
  std::string lines_;
  std::vector<std::string> source_ids_;
  std::vector<LineFrame> frames_;
  struct Cursor {
    uint64_t* slot = nullptr;  // the stored state, when the source is known
    uint64_t high = 0;
    bool known = false;
    bool advanced = false;
  };
  std::vector<Cursor> cursors_;
  std::vector<size_t> alias_;
  StringMap<size_t> first_index_;
};

}  // namespace logferry::aggregator
