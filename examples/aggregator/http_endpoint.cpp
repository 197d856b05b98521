#include "aggregator/http_endpoint.hpp"

#include "aggregator/session_protocol.hpp"
#include "sidecar/app/prometheus.hpp"
#include "sidecar/config/value_parsers.hpp"

namespace logferry::aggregator {

std::string render_aggregator_prometheus(const AggregatorMetrics& m, const AggregatorParts& parts) {
  const Relay* relay = parts.relay;
  constexpr auto counter = MetricType::counter;
  constexpr auto gauge = MetricType::gauge;
  auto v = [](const Counter& c) { return c.load(std::memory_order_relaxed); };
  PrometheusWriter w;
  w.family("logferry_aggregator_connections_accepted_total", counter, "TCP connections accepted.",
           v(m.connections_accepted));
  w.family("logferry_aggregator_connections_active", gauge, "Connections currently open.", v(m.connections_active));
  w.family("logferry_aggregator_connections_refused_total", counter,
           "Connections refused at accept or at their hello (authenticated sessions over "
           "LOGFERRY_AGGREGATOR_MAX_CONNECTIONS).", v(m.connections_refused));
  w.family("logferry_aggregator_accept_errors_total", counter,
           "Failed accepts (e.g. out of descriptors); /readyz answers 503 until one succeeds again.",
           v(m.accept_errors));
  w.family("logferry_aggregator_handshake_failures_total", counter,
           "Hellos refused (version, token), malformed or too late.", v(m.handshake_failures));
  {
    constexpr std::string_view name = "logferry_aggregator_unauthenticated_closed_total";
    w.header(name, counter,
             "Connections closed before their hello was accepted, by reason: pending_limit (the oldest, when "
             "LOGFERRY_AGGREGATOR_MAX_PENDING were waiting), peer_limit (the peer's oldest, when it had "
             "LOGFERRY_AGGREGATOR_MAX_PENDING_PER_PEER waiting), hello_too_large, handshake_timeout.");
    w.sample(name, "reason", "pending_limit", v(m.unauthenticated_evicted));
    w.sample(name, "reason", "peer_limit", v(m.unauthenticated_evicted_peer));
    w.sample(name, "reason", "hello_too_large", v(m.hello_oversized));
    w.sample(name, "reason", "handshake_timeout", v(m.handshake_timeouts));
  }
  w.family("logferry_aggregator_tls_handshake_failures_total", counter,
           "TLS handshakes that failed (bad or missing client certificate, not TLS, too slow).",
           v(m.tls_handshake_failures));
  w.family("logferry_aggregator_frames_oversized_total", counter, "Frames over the maximum size (connection closed).",
           v(m.frames_oversized));
  w.family("logferry_aggregator_frames_malformed_total", counter,
           "Undecodable frames or protocol violations (connection closed).", v(m.frames_malformed));
  w.family("logferry_aggregator_frames_stalled_total", counter,
           "Connections closed for being idle too long or stalling mid-frame.", v(m.frames_stalled));
  w.family("logferry_aggregator_batches_total", counter, "Batches received and acknowledged.", v(m.batches));
  w.family("logferry_aggregator_batches_rejected_total", counter, "Batches acknowledged as rejected.",
           v(m.batches_rejected));
  w.header("logferry_aggregator_batch_rejections_total", counter,
           "Batches acknowledged as rejected, by reason: undecodable (not a Batch, a string not UTF-8), invalid (an "
           "entry without its source), limit (over a LOGFERRY_AGGREGATOR_MAX_* limit), namespace (not granted to the "
           "client's credential, or reserved).");
  for (const RejectReason r : {RejectReason::undecodable, RejectReason::invalid, RejectReason::limit,
                               RejectReason::namespace_denied}) {
    w.sample("logferry_aggregator_batch_rejections_total", "reason", reject_reason_name(r),
             v(m.batch_rejections.at(static_cast<size_t>(r))));
  }
  w.family("logferry_aggregator_entries_stored_total", counter, "Entries stored (counted, in discard mode).",
           v(m.entries_stored));
  w.family("logferry_aggregator_duplicates_dropped_total", counter,
           "Entries dropped because their (source id, offset) was already stored.", v(m.duplicates_dropped));
  w.family("logferry_aggregator_received_bytes_total", counter, "Frame bytes read, headers included.",
           v(m.bytes_received));
  w.family("logferry_aggregator_written_bytes_total", counter, "ndjson bytes written to segments.",
           v(m.bytes_written));
  w.family("logferry_aggregator_fsyncs_total", counter, "fdatasync calls (one covers many batches).", v(m.fsyncs));
  w.family("logferry_aggregator_store_errors_total", counter, "Failed writes or syncs.", v(m.store_errors));
  w.family("logferry_aggregator_retention_segments_deleted_total", counter,
           "Segments deleted by the retention (LOGFERRY_AGGREGATOR_RETENTION_*).", v(m.retention_segments_deleted));
  w.family("logferry_aggregator_retention_bytes_deleted_total", counter, "Bytes of those segments.",
           v(m.retention_bytes_deleted));
  w.family("logferry_aggregator_retention_unrelayed_entries_deleted_total", counter,
           "Stored lines deleted at the size cap before the relay delivered them (RETENTION_WHEN_FULL=delete_oldest).",
           v(m.retention_unrelayed_deleted));
  if (parts.store != nullptr) {
    w.family("logferry_aggregator_store_bytes", gauge, "Bytes in the store's segments.", parts.store->total_bytes());
    w.family("logferry_aggregator_store_full", gauge,
             "1 while the store is at its size cap and sidecars are slowed down.", uint64_t{parts.store->full() ? 1u : 0u});
  }
  w.family("logferry_aggregator_audit_requests_total", counter, "Audit webhook requests answered (any status).",
           v(m.audit_requests));
  w.family("logferry_aggregator_audit_events_stored_total", counter,
           "Audit events stored (also counted in entries_stored).", v(m.audit_events_stored));
  w.family("logferry_aggregator_audit_events_duplicate_total", counter,
           "Audit events dropped because their auditID and stage were already stored.", v(m.audit_events_duplicate));
  w.family("logferry_aggregator_audit_requests_malformed_total", counter,
           "Audit requests answered 400 (malformed JSON or not an audit.k8s.io/v1 EventList).",
           v(m.audit_requests_malformed));
  w.family("logferry_aggregator_audit_requests_unauthorized_total", counter,
           "Audit requests answered 401 (no or wrong bearer token of LOGFERRY_AGGREGATOR_AUDIT_TOKEN_FILE).",
           v(m.audit_requests_unauthorized));
  w.family("logferry_aggregator_audit_requests_oversized_total", counter,
           "Audit requests answered 413 (body over LOGFERRY_AGGREGATOR_AUDIT_MAX_BYTES).", v(m.audit_requests_oversized));
  if (relay != nullptr) {
    const PipelineMetrics& r = relay->metrics();
    w.family("logferry_aggregator_relay_batches_submitted_total", counter, "Batches handed to the relay.",
             relay->submitted_batches());
    w.family("logferry_aggregator_relay_batches_total", counter, "Batches the relay's downstream accepted.",
             r.batches_acked);
    w.family("logferry_aggregator_relay_entries_total", counter, "Entries in batches the downstream accepted.",
             r.entries_acked);
    w.family("logferry_aggregator_relay_batches_retried_total", counter,
             "Batches sent downstream again after a failure or a retry answer.", r.batches_retried);
    w.family("logferry_aggregator_relay_batches_rejected_total", counter,
             "Batches the downstream rejected for good (not sent again).", r.batches_rejected);
    w.family("logferry_aggregator_relay_entries_rejected_partial_total", counter,
             "Entries the downstream dropped inside accepted batches (OTLP partial success).",
             r.entries_rejected_partial);
    w.family("logferry_aggregator_relay_errors_total", counter,
             "Failed connections to the downstream and sessions ended by an error, a retry answer or an ack timeout.",
             r.connect_failures + r.reconnects);
    w.header("logferry_aggregator_relay_output_errors_total", counter,
             "Per downstream output: failed connection attempts (each output of a failover list) and sessions ended "
             "by an error.");
    for (const auto& [output, n] : r.output_errors)
      w.sample("logferry_aggregator_relay_output_errors_total", "output", redact_urls(output), n);
    w.family("logferry_aggregator_relay_queue_batches", gauge, "Batches waiting for the downstream's answer.",
             relay->queued_batches());
    w.family("logferry_aggregator_relay_queue_bytes", gauge, "Memory held by those batches.", r.buffer_bytes);
  }
  if (const StoreRelay* sr = parts.store_relay; sr != nullptr) {
    w.family("logferry_aggregator_relay_lag_entries", gauge, "Stored lines the downstream has not answered yet.",
             sr->lag_entries());
    w.family("logferry_aggregator_relay_lag_bytes", gauge, "Stored bytes after the relay cursors.", sr->lag_bytes());
    w.family_double("logferry_aggregator_relay_lag_seconds", gauge,
             "Age of the oldest line waiting for the downstream (from its observed time); 0 when none waits.",
             sr->lag_seconds());
    w.family("logferry_aggregator_relay_unreadable_lines_total", counter,
             "Stored lines the relay could not read back (damaged): skipped.", sr->unreadable_lines());
  }
  return w.take();
}

HttpRoutes aggregator_routes(const AggregatorMetrics& metrics, AggregatorReadiness readiness, AggregatorParts parts) {
  HttpRoutes routes;
  routes.emplace("/healthz", [] { return HttpResponse{200, "text/plain; charset=utf-8", "ok\n"}; });
  routes.emplace("/readyz", [readiness = std::move(readiness)] {
    const std::string why = readiness ? readiness() : std::string();
    if (why.empty()) return HttpResponse{200, "text/plain; charset=utf-8", "ready\n"};
    return HttpResponse{503, "text/plain; charset=utf-8", why + "\n"};
  });
  routes.emplace("/metrics", [&metrics, parts] {
    return HttpResponse{200, std::string(kPrometheusContentType), render_aggregator_prometheus(metrics, parts)};
  });
  return routes;
}

std::unique_ptr<HttpServer> start_aggregator_http(boost::asio::any_io_executor executor, const AggregatorConfig& config,
                                                  const AggregatorMetrics& metrics, AggregatorReadiness readiness,
                                                  AggregatorParts parts) {
  if (config.http_addr.empty()) return nullptr;
  return std::make_unique<HttpServer>(std::move(executor), config.http_addr,
                                      aggregator_routes(metrics, std::move(readiness), parts));
}

}  // namespace logferry::aggregator
