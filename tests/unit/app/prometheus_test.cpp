#include "sidecar/app/prometheus.hpp"

#include <catch2/catch.hpp>

using namespace logferry;

TEST_CASE("prometheus: label values and HELP text are escaped per the text format", "[ops][metrics]") {
  CHECK(escape_label_value("plain/path.log") == "plain/path.log");
  CHECK(escape_label_value("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
  CHECK(escape_help("a\\b\"c\nd") == "a\\\\b\"c\\nd");  // quotes stay in HELP
}

TEST_CASE("prometheus: the writer renders families and samples", "[ops][metrics]") {
  PrometheusWriter w;
  w.header("x_total", MetricType::counter, "Things.");
  w.sample("x_total", "source", "a\"b", 3);
  w.family("y", MetricType::gauge, "Level.", 0);
  CHECK(w.text() ==
        "# HELP x_total Things.\n# TYPE x_total counter\nx_total{source=\"a\\\"b\"} 3\n"
        "# HELP y Level.\n# TYPE y gauge\ny 0\n");
}

TEST_CASE("prometheus: every sidecar metric, exact text", "[ops][metrics]") {
  Metrics m;
  m.per_source["/var/log/app/a.log"] = {3, 120};
  m.per_source["C:\\odd \"name\"\nx"] = {1, 7};
  m.lines_read = 4;
  m.bytes_read = 127;
  m.lines_truncated = 1;
  m.partial_lines_flushed = 2;
  m.files_watched = 2;
  m.files_discovered = 5;
  m.rotations = 6;
  m.truncations = 7;
  m.truncation_copies_read = 3;
  m.read_errors = 8;
  m.skipped_files["symlink"] = 2;
  m.parse_errors = 9;
  m.multiline_records = 10;
  m.dropped_lines["filter"] = 11;
  m.dropped_lines["pipe_overflow"] = 12;
  m.entries_sent = 13;
  m.batches_sent = 14;
  m.batches_acked = 15;
  m.batches_retried = 16;
  m.batches_rejected = 17;
  m.entries_rejected_partial = 27;
  m.output_fallbacks = 28;
  m.entries_acked = 18;
  m.bytes_sent = 19;
  m.reconnects = 20;
  m.connect_failures = 21;
  m.output_errors["tcp://a:7070"] = 4;
  m.output_errors["loki+https://user:secret@loki:3100/loki/api/v1/push?x=1"] = 5;
  m.connected = true;
  m.buffer_bytes = 22;
  m.spill_bytes = 23;
  m.checkpoint_lag_bytes = 24;
  m.checkpoint_saves = 25;
  m.checkpoint_errors = 26;
  m.sources_open = true;
  m.start_time_unix = 1700000000;

  const std::string expected = R"(# HELP logferry_build_info Build information; the value is always 1.
# TYPE logferry_build_info gauge
logferry_build_info{version=")" LOGFERRY_VERSION R"("} 1
# HELP logferry_start_time_seconds Start time of the process, seconds since the Unix epoch.
# TYPE logferry_start_time_seconds gauge
logferry_start_time_seconds 1700000000
# HELP logferry_sources_open 1 when the configured sources have been opened.
# TYPE logferry_sources_open gauge
logferry_sources_open 1
# HELP logferry_source_lines_total Lines read, per source.
# TYPE logferry_source_lines_total counter
logferry_source_lines_total{source="/var/log/app/a.log"} 3
logferry_source_lines_total{source="C:\\odd \"name\"\nx"} 1
# HELP logferry_source_bytes_total Bytes read, per source.
# TYPE logferry_source_bytes_total counter
logferry_source_bytes_total{source="/var/log/app/a.log"} 120
logferry_source_bytes_total{source="C:\\odd \"name\"\nx"} 7
# HELP logferry_lines_read_total Lines read from all sources.
# TYPE logferry_lines_read_total counter
logferry_lines_read_total 4
# HELP logferry_bytes_read_total Bytes read from all sources.
# TYPE logferry_bytes_read_total counter
logferry_bytes_read_total 127
# HELP logferry_lines_truncated_total Lines cut at LOGFERRY_MAX_LINE_BYTES.
# TYPE logferry_lines_truncated_total counter
logferry_lines_truncated_total 1
# HELP logferry_partial_lines_flushed_total Last lines without a newline forwarded after LOGFERRY_PARTIAL_FLUSH.
# TYPE logferry_partial_lines_flushed_total counter
logferry_partial_lines_flushed_total 2
# HELP logferry_files_watched Files currently open for reading.
# TYPE logferry_files_watched gauge
logferry_files_watched 2
# HELP logferry_files_discovered_total Files matched by LOGFERRY_FILES since start.
# TYPE logferry_files_discovered_total counter
logferry_files_discovered_total 5
# HELP logferry_rotations_total File rotations (rename or re-create) seen.
# TYPE logferry_rotations_total counter
logferry_rotations_total 6
# HELP logferry_truncations_total File truncations (copytruncate) seen.
# TYPE logferry_truncations_total counter
logferry_truncations_total 7
# HELP logferry_truncation_copies_read_total File truncations after which the unread rest was read from logrotate's copy.
# TYPE logferry_truncation_copies_read_total counter
logferry_truncation_copies_read_total 3
# HELP logferry_container_log_names_unparsed_total Node mode: files whose name is not <pod>_<namespace>_<container>-<id>.log (read without pod labels).
# TYPE logferry_container_log_names_unparsed_total counter
logferry_container_log_names_unparsed_total 0
# HELP logferry_read_errors_total Errors reading sources.
# TYPE logferry_read_errors_total counter
logferry_read_errors_total 8
# HELP logferry_skipped_files_total Matching paths not read, by reason: symlink (sidecar mode), symlink_outside_root (node mode), not_regular (FIFO, socket, device).
# TYPE logferry_skipped_files_total counter
logferry_skipped_files_total{reason="symlink"} 2
# HELP logferry_pod_metadata_reloads_total Sidecar mode: downwardAPI label/annotation files read (at start and after the kubelet updated them).
# TYPE logferry_pod_metadata_reloads_total counter
logferry_pod_metadata_reloads_total 0
# HELP logferry_pod_metadata_bad_lines_total Lines of the downwardAPI label/annotation files that are not key="value" (skipped).
# TYPE logferry_pod_metadata_bad_lines_total counter
logferry_pod_metadata_bad_lines_total 0
# HELP logferry_pod_metadata_read_errors_total Failed re-reads of the downwardAPI label/annotation files (their last labels stay).
# TYPE logferry_pod_metadata_read_errors_total counter
logferry_pod_metadata_read_errors_total 0
# HELP logferry_parse_errors_total Lines the parser could not parse (forwarded as plain text).
# TYPE logferry_parse_errors_total counter
logferry_parse_errors_total 9
# HELP logferry_multiline_records_total Records joined from several lines.
# TYPE logferry_multiline_records_total counter
logferry_multiline_records_total 10
# HELP logferry_dropped_lines_total Lines dropped on purpose, by reason.
# TYPE logferry_dropped_lines_total counter
logferry_dropped_lines_total{reason="filter"} 11
logferry_dropped_lines_total{reason="pipe_overflow"} 12
# HELP logferry_entries_sent_total Entries written to the output, re-sends included.
# TYPE logferry_entries_sent_total counter
logferry_entries_sent_total 13
# HELP logferry_entries_acked_total Entries acknowledged by the output.
# TYPE logferry_entries_acked_total counter
logferry_entries_acked_total 18
# HELP logferry_batches_sent_total Batches written to the output, re-sends included.
# TYPE logferry_batches_sent_total counter
logferry_batches_sent_total 14
# HELP logferry_batches_acked_total Batches acknowledged by the output.
# TYPE logferry_batches_acked_total counter
logferry_batches_acked_total 15
# HELP logferry_batches_retried_total Batches re-sent after a failure.
# TYPE logferry_batches_retried_total counter
logferry_batches_retried_total 16
# HELP logferry_batches_rejected_total Batches the output rejected for good.
# TYPE logferry_batches_rejected_total counter
logferry_batches_rejected_total 17
# HELP logferry_entries_rejected_partial_total Entries an HTTP output dropped inside an accepted batch (OTLP partial success).
# TYPE logferry_entries_rejected_partial_total counter
logferry_entries_rejected_partial_total 27
# HELP logferry_output_fallbacks_total Times an HTTP output refused a feature and the sink fell back (Loki structured metadata to logfmt).
# TYPE logferry_output_fallbacks_total counter
logferry_output_fallbacks_total 28
# HELP logferry_sent_bytes_total Bytes written to the output on the wire, framing included.
# TYPE logferry_sent_bytes_total counter
logferry_sent_bytes_total 19
# HELP logferry_output_connected 1 while a connection to the output is established.
# TYPE logferry_output_connected gauge
logferry_output_connected 1
# HELP logferry_reconnects_total Connections to the output re-established.
# TYPE logferry_reconnects_total counter
logferry_reconnects_total 20
# HELP logferry_connect_failures_total Failed attempts to connect to the output.
# TYPE logferry_connect_failures_total counter
logferry_connect_failures_total 21
# HELP logferry_output_errors_total Per output: failed connection attempts (each output of a failover list) and sessions ended by an error.
# TYPE logferry_output_errors_total counter
logferry_output_errors_total{output="loki+https://***@loki:3100/loki/api/v1/push?***"} 5
logferry_output_errors_total{output="tcp://a:7070"} 4
# HELP logferry_buffer_bytes Encoded batches held in memory (waiting or not yet acknowledged).
# TYPE logferry_buffer_bytes gauge
logferry_buffer_bytes 22
# HELP logferry_spill_bytes Bytes of named-pipe input spilled to disk.
# TYPE logferry_spill_bytes gauge
logferry_spill_bytes 23
# HELP logferry_checkpoint_lag_bytes Bytes read but not yet acknowledged by the output.
# TYPE logferry_checkpoint_lag_bytes gauge
logferry_checkpoint_lag_bytes 24
# HELP logferry_checkpoint_saves_total Checkpoint files written.
# TYPE logferry_checkpoint_saves_total counter
logferry_checkpoint_saves_total 25
# HELP logferry_checkpoint_errors_total Failures writing the checkpoint file.
# TYPE logferry_checkpoint_errors_total counter
logferry_checkpoint_errors_total 26
)";
  CHECK(render_prometheus(m) == expected);
}

TEST_CASE("prometheus: empty metrics still declare every family", "[ops][metrics]") {
  const std::string text = render_prometheus(Metrics{});
  CHECK(text.find("# TYPE logferry_source_lines_total counter\n# HELP logferry_source_bytes_total") != std::string::npos);
  CHECK(text.find("# TYPE logferry_dropped_lines_total counter\n# HELP logferry_entries_sent_total") != std::string::npos);
  CHECK(text.find("logferry_output_connected 0\n") != std::string::npos);
  CHECK(text.find("logferry_sources_open 0\n") != std::string::npos);
  // Every sample line ends in a newline and every family has HELP then TYPE.
  CHECK(text.back() == '\n');
  size_t helps = 0, types = 0;
  for (size_t pos = 0; (pos = text.find("# HELP ", pos)) != std::string::npos; ++pos) ++helps;
  for (size_t pos = 0; (pos = text.find("# TYPE ", pos)) != std::string::npos; ++pos) ++types;
  CHECK(helps == 41);
  CHECK(types == 41);
}
