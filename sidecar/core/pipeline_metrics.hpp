#pragma once
// The counters and gauges the pipeline's stages update (sources, parsing,
// delivery): the narrow interface a component takes, so that sources,
// forwarders and the client library depend on core and not on the app. The
// app's Metrics (app/metrics.hpp) extends it with the process's own fields and
// renders it. Everything runs on one thread, so plain integers.
#include <cstdint>
#include <map>
#include <string>

namespace logferry {

struct SourceCounters {
  uint64_t lines = 0;
  uint64_t bytes = 0;
};

struct PipelineMetrics {
  // Sources.
  std::map<std::string, SourceCounters> per_source;  // by path ("stdin", pipe path, file path)
  uint64_t lines_read = 0;
  uint64_t bytes_read = 0;
  uint64_t lines_truncated = 0;      // cut at LOGFERRY_MAX_LINE_BYTES
  uint64_t partial_lines_flushed = 0;
  uint64_t files_watched = 0;        // gauge: open watchers
  uint64_t files_discovered = 0;
  uint64_t rotations = 0;            // rename/create rotations seen
  uint64_t truncations = 0;          // copytruncate (file shrank) seen
  uint64_t truncation_copies_read = 0;  // of those, read on in logrotate's copy
  uint64_t container_log_names_unparsed = 0;  // node mode: files read without pod labels
  uint64_t read_errors = 0;
  uint64_t lines_without_metadata = 0;    // node mode: lines of a Pod not (yet) known to the API server
  uint64_t pod_metadata_reloads = 0;      // downwardAPI label/annotation files (re-)read
  uint64_t pod_metadata_bad_lines = 0;    // lines of those files that are not key="value"
  uint64_t pod_metadata_read_errors = 0;  // failed re-reads (the last labels stay)
  std::map<std::string, uint64_t> skipped_files;  // matching paths not read, by reason: symlink, not_regular, ...

  // Parsing.
  uint64_t parse_errors = 0;
  uint64_t multiline_records = 0;
  std::map<std::string, uint64_t> dropped_lines;  // by reason: filter, pipe_overflow, ...

  // Delivery.
  uint64_t entries_sent = 0;
  uint64_t batches_sent = 0;         // every write, re-sends included
  uint64_t batches_acked = 0;
  uint64_t batches_retried = 0;      // re-sent after a failure
  uint64_t batches_rejected = 0;
  uint64_t output_fallbacks = 0;     // an HTTP output refused a feature; the sink fell back (Loki structured metadata)
  uint64_t entries_rejected_partial = 0;  // dropped by an HTTP output inside an accepted batch (OTLP partial success)
  uint64_t entries_acked = 0;
  uint64_t bytes_sent = 0;           // on the wire, frames included
  uint64_t reconnects = 0;
  uint64_t connect_failures = 0;
  // By output (its text as configured): failed connection attempts (each output
  // tried in a failover walk) and sessions ended by an error.
  std::map<std::string, uint64_t> output_errors;
  bool connected = false;            // gauge
  uint64_t buffer_bytes = 0;         // gauge: encoded batches held in memory
  uint64_t spill_bytes = 0;          // gauge: pipe spill on disk
  uint64_t checkpoint_lag_bytes = 0; // gauge: read but not yet acknowledged
  uint64_t checkpoint_saves = 0;
  uint64_t checkpoint_errors = 0;

  // Readiness: the configured sources are being read.
  bool sources_open = false;
};

}  // namespace logferry
