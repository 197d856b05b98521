#pragma once
// What the aggregator does with one audit webhook request body: decode the
// EventList, drop events whose auditID+stage was already stored, store the
// rest as one batch in the segment store (DATA_DIR/_audit/kube-apiserver/,
// one source "k8s-audit-webhook" whose offsets count the events), and answer
// only once that write is durable (group commit). Transport-free, so the HTTP
// listener stays small and this is testable on its own.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "aggregator/aggregator_metrics.hpp"
#include "aggregator/audit_dedupe.hpp"
#include "aggregator/audit_event_list.hpp"
#include "aggregator/segment_store.hpp"

namespace logferry::aggregator {

// Where audit events are stored: a namespace no Kubernetes namespace can have.
inline constexpr std::string_view kAuditNamespace = "_audit";
inline constexpr std::string_view kAuditPod = "kube-apiserver";
inline constexpr std::string_view kAuditSourceId = "k8s-audit-webhook";
// Its directory under DATA_DIR: no label value escapes to a name starting with
// '_' (see escape_path_component), so no client batch can reach it.
inline constexpr std::string_view kAuditDirKey = "_audit/kube-apiserver";
// Audit events remembered for deduplication.
inline constexpr size_t kAuditDedupeWindow = 100000;

struct AuditAnswer {
  unsigned status = 200;  // 200 stored (or all duplicates), 400 malformed, 500/503 store failure
  std::string text;       // one line for the response body
  uint32_t stored = 0;
  uint32_t duplicates = 0;
};

class AuditReceiver {
 public:
  // `store` is nullptr in discard mode (events are counted, not stored). Both must outlive the receiver.
  AuditReceiver(SegmentStore* store, AggregatorMetrics& metrics, std::string data_dir);

  // Rebuilds the dedupe window and the next offset from what is stored; call after store->open().
  void open();

  // Handles one request body; completes after the durable write (or its failure).
  boost::asio::awaitable<AuditAnswer> receive(std::string_view body);

 private:
  SegmentStore* store_;
  AggregatorMetrics& metrics_;
  std::string data_dir_;
  AuditEventListDecoder decoder_;
  AuditDedupe dedupe_{kAuditDedupeWindow};
  uint64_t next_offset_ = 1;
  std::vector<AuditEvent> events_;   // reused per request
  std::unordered_set<std::string_view> fresh_;  // keys of the events being stored (views into events_)
  v1::Batch batch_;                  // reused per request
};

}  // namespace logferry::aggregator
