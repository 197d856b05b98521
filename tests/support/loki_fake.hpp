#pragma once
// An in-test Grafana Loki: a TestReceiver taking protobuf pushes (snappy) on
// /loki/api/v1/push that stores entries by Loki's documented rules:
// - per stream (label set), a forward query returns entries by timestamp;
//   entries with the same timestamp come back ordered by their line (what a
//   real Loki does with equal timestamps), not in the order they were pushed;
// - an entry whose stream, timestamp and line equal a stored one is an exact
//   duplicate: dropped (counted), the push still succeeds;
// - with structured metadata disallowed, each entry carrying some is refused
//   with Loki's 400 message; the push's other entries are stored.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "support/test_receiver.hpp"

namespace logferry::test {

struct LokiEntry {
  std::string stream;  // the label set as pushed, e.g. {filename="a.log",pod="web-0"}
  uint64_t timestamp = 0;
  std::string line;
  std::vector<std::pair<std::string, std::string>> metadata;
};

struct LokiFakeOptions {
  bool allow_structured_metadata = true;
  // Called after push number `n` (1-based) was stored, before it is answered
  // (e.g. to cut the connection so that the answer is lost). Not under the fake's lock.
  std::function<void(size_t n)> after_store;
};

class LokiFake {
 public:
  explicit LokiFake(LokiFakeOptions options = {});
  uint16_t port() const { return receiver_.port(); }
  // Every stored entry: streams by label set, each in forward-query order.
  std::vector<LokiEntry> query_forward() const;
  // The stored entries of the stream whose label set contains `label` (e.g. filename="a.log").
  std::vector<LokiEntry> query_forward(const std::string& label) const;
  size_t pushes() const;
  size_t stored() const;
  size_t duplicates_dropped() const;
  size_t refused_structured_metadata() const;  // entries refused for carrying it
  size_t undecodable() const;

 private:
  ScriptedReply on_push(const ReceivedRequest& r);

  LokiFakeOptions options_;
  mutable std::mutex mutex_;
  // stream -> (timestamp, line) -> metadata
  std::map<std::string, std::map<std::pair<uint64_t, std::string>, std::vector<std::pair<std::string, std::string>>>>
      streams_;
  size_t pushes_ = 0;
  size_t duplicates_ = 0;
  size_t refused_ = 0;
  size_t undecodable_ = 0;
  TestReceiver receiver_{true};  // last: its threads call on_push
};

}  // namespace logferry::test
