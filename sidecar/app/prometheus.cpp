#include "sidecar/app/prometheus.hpp"

#include <fmt/format.h>

#include "sidecar/config/value_parsers.hpp"

namespace logferry {

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void PrometheusWriter::header(std::string_view name, MetricType type, std::string_view help) {
  fmt::format_to(std::back_inserter(text_), "# HELP {} {}\n# TYPE {} {}\n", name, escape_help(help), name,
                 type == MetricType::counter ? "counter" : "gauge");
}

void PrometheusWriter::sample(std::string_view name, uint64_t value) {
  fmt::format_to(std::back_inserter(text_), "{} {}\n", name, value);
}

void PrometheusWriter::sample_double(std::string_view name, double value) {
  fmt::format_to(std::back_inserter(text_), "{} {:.3f}\n", name, value);
}

void PrometheusWriter::sample(std::string_view name, std::string_view label, std::string_view label_value,
                              uint64_t value) {
  fmt::format_to(std::back_inserter(text_), "{}{{{}=\"{}\"}} {}\n", name, label, escape_label_value(label_value),
                 value);
}

void PrometheusWriter::family(std::string_view name, MetricType type, std::string_view help, uint64_t value) {
  header(name, type, help);
  sample(name, value);
}

void PrometheusWriter::family_double(std::string_view name, MetricType type, std::string_view help, double value) {
  header(name, type, help);
  sample_double(name, value);
}

std::string render_prometheus(const Metrics& m) {
  constexpr auto counter = MetricType::counter;
  constexpr auto gauge = MetricType::gauge;
  PrometheusWriter w;
  w.header("logferry_build_info", gauge, "Build information; the value is always 1.");
  w.sample("logferry_build_info", "version", LOGFERRY_VERSION, 1);
  w.family("logferry_start_time_seconds", gauge, "Start time of the process, seconds since the Unix epoch.",
           m.start_time_unix);
  w.family("logferry_sources_open", gauge, "1 when the configured sources have been opened.", m.sources_open ? 1 : 0);

  // Sources.
  w.header("logferry_source_lines_total", counter, "Lines read, per source.");
  for (const auto& [path, c] : m.per_source) w.sample("logferry_source_lines_total", "source", path, c.lines);
  w.header("logferry_source_bytes_total", counter, "Bytes read, per source.");
  for (const auto& [path, c] : m.per_source) w.sample("logferry_source_bytes_total", "source", path, c.bytes);
  w.family("logferry_lines_read_total", counter, "Lines read from all sources.", m.lines_read);
  w.family("logferry_bytes_read_total", counter, "Bytes read from all sources.", m.bytes_read);
  w.family("logferry_lines_truncated_total", counter, "Lines cut at LOGFERRY_MAX_LINE_BYTES.", m.lines_truncated);
  w.family("logferry_partial_lines_flushed_total", counter,
           "Last lines without a newline forwarded after LOGFERRY_PARTIAL_FLUSH.", m.partial_lines_flushed);
  w.family("logferry_files_watched", gauge, "Files currently open for reading.", m.files_watched);
  w.family("logferry_files_discovered_total", counter, "Files matched by LOGFERRY_FILES since start.",
           m.files_discovered);
  w.family("logferry_rotations_total", counter, "File rotations (rename or re-create) seen.", m.rotations);
  w.family("logferry_truncations_total", counter, "File truncations (copytruncate) seen.", m.truncations);
  w.family("logferry_truncation_copies_read_total", counter,
           "File truncations after which the unread rest was read from logrotate's copy.", m.truncation_copies_read);
  w.family("logferry_container_log_names_unparsed_total", counter,
           "Node mode: files whose name is not <pod>_<namespace>_<container>-<id>.log (read without pod labels).",
           m.container_log_names_unparsed);
  w.family("logferry_read_errors_total", counter, "Errors reading sources.", m.read_errors);
  w.header("logferry_skipped_files_total", counter,
           "Matching paths not read, by reason: symlink (sidecar mode), symlink_outside_root (node mode), "
           "not_regular (FIFO, socket, device).");
  for (const auto& [reason, n] : m.skipped_files) w.sample("logferry_skipped_files_total", "reason", reason, n);
  w.family("logferry_pod_metadata_reloads_total", counter,
           "Sidecar mode: downwardAPI label/annotation files read (at start and after the kubelet updated them).",
           m.pod_metadata_reloads);
  w.family("logferry_pod_metadata_bad_lines_total", counter,
           "Lines of the downwardAPI label/annotation files that are not key=\"value\" (skipped).",
           m.pod_metadata_bad_lines);
  w.family("logferry_pod_metadata_read_errors_total", counter,
           "Failed re-reads of the downwardAPI label/annotation files (their last labels stay).",
           m.pod_metadata_read_errors);

  if (m.kube != nullptr) {
    const KubeMetrics& k = *m.kube;
    w.family("logferry_kube_pods", gauge, "Node mode: Pods of this node in the metadata cache (deleted ones kept a while).",
             m.kube_pods ? m.kube_pods() : 0);
    w.family("logferry_kube_api_errors_total", counter,
             "Node mode: failed API server requests (network, TLS, timeouts, non-2xx answers, bad JSON).",
             k.api_errors.load());
    w.family("logferry_kube_unauthorized_total", counter, "Node mode: 401 answers (the token file is re-read).",
             k.unauthorized.load());
    w.family("logferry_kube_relists_total", counter, "Node mode: Pod lists forced by 410 Gone.", k.relists.load());
    w.family("logferry_kube_watch_events_total", counter, "Node mode: watch events applied (bookmarks included).",
             k.watch_events.load());
    w.family("logferry_kube_owner_lookup_errors_total", counter,
             "Node mode: failed ReplicaSet/Job lookups for workload names (the direct owner is kept).",
             k.owner_lookup_errors.load());
    w.family("logferry_lines_without_metadata_total", counter,
             "Node mode: lines of Pods the API server had not (yet) described, sent with their file-name labels.",
             m.lines_without_metadata);
  }

  // Parsing.
  w.family("logferry_parse_errors_total", counter, "Lines the parser could not parse (forwarded as plain text).",
           m.parse_errors);
  w.family("logferry_multiline_records_total", counter, "Records joined from several lines.", m.multiline_records);
  w.header("logferry_dropped_lines_total", counter, "Lines dropped on purpose, by reason.");
  for (const auto& [reason, n] : m.dropped_lines) w.sample("logferry_dropped_lines_total", "reason", reason, n);

  // Delivery.
  w.family("logferry_entries_sent_total", counter, "Entries written to the output, re-sends included.",
           m.entries_sent);
  w.family("logferry_entries_acked_total", counter, "Entries acknowledged by the output.", m.entries_acked);
  w.family("logferry_batches_sent_total", counter, "Batches written to the output, re-sends included.",
           m.batches_sent);
  w.family("logferry_batches_acked_total", counter, "Batches acknowledged by the output.", m.batches_acked);
  w.family("logferry_batches_retried_total", counter, "Batches re-sent after a failure.", m.batches_retried);
  w.family("logferry_batches_rejected_total", counter, "Batches the output rejected for good.", m.batches_rejected);
  w.family("logferry_entries_rejected_partial_total", counter,
           "Entries an HTTP output dropped inside an accepted batch (OTLP partial success).",
           m.entries_rejected_partial);
  w.family("logferry_output_fallbacks_total", counter,
           "Times an HTTP output refused a feature and the sink fell back (Loki structured metadata to logfmt).",
           m.output_fallbacks);
  w.family("logferry_sent_bytes_total", counter, "Bytes written to the output on the wire, framing included.",
           m.bytes_sent);
  w.family("logferry_output_connected", gauge, "1 while a connection to the output is established.",
           m.connected ? 1 : 0);
  w.family("logferry_reconnects_total", counter, "Connections to the output re-established.", m.reconnects);
  w.family("logferry_connect_failures_total", counter, "Failed attempts to connect to the output.",
           m.connect_failures);
  w.header("logferry_output_errors_total", counter,
           "Per output: failed connection attempts (each output of a failover list) and sessions ended by an error.");
  for (const auto& [output, n] : m.output_errors) w.sample("logferry_output_errors_total", "output", redact_urls(output), n);
  w.family("logferry_buffer_bytes", gauge, "Encoded batches held in memory (waiting or not yet acknowledged).",
           m.buffer_bytes);
  w.family("logferry_spill_bytes", gauge, "Bytes of named-pipe input spilled to disk.", m.spill_bytes);

  // Checkpoints.
  w.family("logferry_checkpoint_lag_bytes", gauge, "Bytes read but not yet acknowledged by the output.",
           m.checkpoint_lag_bytes);
  w.family("logferry_checkpoint_saves_total", counter, "Checkpoint files written.", m.checkpoint_saves);
  w.family("logferry_checkpoint_errors_total", counter, "Failures writing the checkpoint file.",
           m.checkpoint_errors);
  return w.take();
}

}  // namespace logferry
