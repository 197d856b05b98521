#pragma once
// The aggregator's counters, all in one struct so that one endpoint can expose
// them. Updated from the io thread (and the sync thread for fsyncs), read from
// anywhere: relaxed atomics.
#include <array>
#include <atomic>
#include <cstdint>

namespace logferry::aggregator {

using Counter = std::atomic<uint64_t>;

struct AggregatorMetrics {
  Counter connections_accepted{0};   // TCP connections accepted
  Counter connections_active{0};     // connections currently open (a gauge)
  Counter connections_refused{0};    // closed at accept: over LOGFERRY_AGGREGATOR_MAX_CONNECTIONS
  Counter accept_errors{0};          // accept failed (e.g. out of descriptors): not ready meanwhile
  Counter handshake_failures{0};     // hello refused (version, token), malformed or too late
  // Connections closed before authentication, by reason:
  Counter unauthenticated_evicted{0};       // the oldest, when LOGFERRY_AGGREGATOR_MAX_PENDING were waiting
  Counter unauthenticated_evicted_peer{0};  // the peer's oldest, when it had LOGFERRY_AGGREGATOR_MAX_PENDING_PER_PEER
  Counter hello_oversized{0};               // hello frame over kMaxHelloBytes (also in handshake_failures)
  Counter handshake_timeouts{0};            // no hello in time (also in handshake_failures)
  Counter tls_handshake_failures{0}; // TLS handshake failed (bad or missing client certificate, not TLS, ...)
  Counter frames_oversized{0};       // frame length over the maximum: connection closed
  Counter frames_malformed{0};       // undecodable frame or protocol violation: connection closed
  Counter frames_stalled{0};         // idle or mid-frame deadline passed: connection closed
  Counter batches{0};                // batches received and acknowledged
  Counter batches_rejected{0};       // batches acknowledged as REJECTED (invalid contents)
  // The same by reason, indexed by RejectReason (session_protocol.hpp): 0 unused.
  std::array<Counter, 5> batch_rejections{};
  Counter entries_stored{0};         // entries written (or counted, in discard mode)
  Counter duplicates_dropped{0};     // entries dropped because their key was already stored
  Counter bytes_received{0};         // frame bytes read, headers included
  Counter bytes_written{0};          // ndjson bytes written to segments
  Counter fsyncs{0};                 // fdatasync calls (group commits cover many batches)
  Counter store_errors{0};           // failed writes or syncs
  Counter retention_segments_deleted{0};   // segments deleted by the retention (age or cap)
  Counter retention_bytes_deleted{0};      // their bytes
  Counter retention_unrelayed_deleted{0};  // lines deleted before the relay delivered them (delete_oldest)
  Counter audit_requests{0};         // audit webhook requests answered (any status)
  Counter audit_events_stored{0};    // audit events stored (also counted in entries_stored)
  Counter audit_events_duplicate{0}; // audit events dropped: their auditID+stage was already stored
  Counter audit_requests_malformed{0};  // audit requests answered 400 (not an audit.k8s.io/v1 EventList)
  Counter audit_requests_unauthorized{0};  // audit requests answered 401 (no or wrong bearer token)
  Counter audit_requests_oversized{0};  // audit requests answered 413 (body over LOGFERRY_AGGREGATOR_AUDIT_MAX_BYTES)
};

// Adds n to a counter (relaxed).
inline void bump(Counter& c, uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }

}  // namespace logferry::aggregator
