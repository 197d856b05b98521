#pragma once
// The idempotency window of the audit receiver: the keys (auditID + stage) of
// the most recent audit events stored, so that a list the API server posts
// again (after a timeout or a lost answer) is not stored twice. Bounded: the
// oldest key is forgotten once `capacity` newer ones were stored. Rebuilt on
// start from the newest audit segments, so a restart keeps the window.
#include <cstddef>
#include <deque>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_set>

#include "aggregator/segment_store.hpp"

namespace logferry::aggregator {

class AuditDedupe {
 public:
  explicit AuditDedupe(size_t capacity) : capacity_(capacity) {}

  // True when `key` was stored within the window.
  bool contains(std::string_view key) const { return keys_.find(key) != keys_.end(); }
  // Remembers `key` (forgetting the oldest beyond the capacity).
  void insert(std::string key);
  size_t size() const { return order_.size(); }

  // Reads the keys of the newest stored audit events from the segments in
  // `dir` (segment-NNNNNN.ndjson lines as the store writes them). Returns the
  // number of keys read; lines without audit attributes are skipped.
  size_t recover(const std::filesystem::path& dir);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  size_t capacity_;
  std::unordered_set<std::string, Hash, std::equal_to<>> keys_;
  std::deque<std::string_view> order_;  // oldest first; views of keys_'s strings
};

}  // namespace logferry::aggregator
