#pragma once
// The sidecar's settings: a typed struct filled from one table of environment
// variables (see config.cpp), validated as a whole at start-up.
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sidecar/config/env_table.hpp"
#include "sidecar/core/logger.hpp"

namespace logferry {

using Labels = std::vector<std::pair<std::string, std::string>>;
using std::chrono::milliseconds;

enum class ReadFrom { head, tail };
enum class PipeOverflow { block, drop_oldest, drop_newest };
// sidecar: next to one app in its Pod; node: a DaemonSet agent reading the
// kubelet's container logs, labelled per file from the file name.
enum class Mode { sidecar, node };

// The files a node agent reads when LOGFERRY_FILES is unset.
inline constexpr std::string_view kNodeLogGlob = "/var/log/containers/*.log";

// One destination: scheme "tcp" / "tls" (native protocol), "otlp+http(s)"
// or "loki+http(s)".
struct Endpoint {
  std::string scheme;
  std::string host;
  uint16_t port = 0;
  std::string path;  // for HTTP outputs; "" otherwise
  std::string text;  // as written, for messages
};

struct Config {
  Mode mode = Mode::sidecar;  // LOGFERRY_MODE

  // Sources.
  std::vector<std::string> files;    // globs
  std::vector<std::string> exclude;  // globs
  std::string pipe;                  // FIFO path; "" = none
  uint32_t pipe_mode = 0622;
  bool read_stdin = false;
  ReadFrom read_from = ReadFrom::head;
  uint64_t max_line_bytes = 0;
  milliseconds partial_flush{0};
  milliseconds rotate_wait{0};
  milliseconds poll_interval{0};
  bool inotify = true;
  uint64_t read_budget_bytes = 0;
  uint64_t max_open_files = 0;
  std::string spill_dir;
  uint64_t spill_max_bytes = 0;
  PipeOverflow pipe_overflow = PipeOverflow::block;
  // Sidecar mode: follow symlinks among the files (off: the app could point
  // one at the sidecar's own secrets). Node mode always follows links whose
  // target is beneath pods_root, and only those.
  bool follow_symlinks = false;
  std::string pods_root = "/var/log/pods";

  // Parsing.
  std::string parser;
  std::vector<std::pair<std::string, std::string>> parser_overrides;  // (path glob, parser), first match wins
  std::string regex;                                                   // LOGFERRY_REGEX
  std::vector<std::string> message_fields, time_fields, level_fields;  // "" = built-in defaults
  std::string multiline;                                               // preset java|python|go; "" = none
  std::string multiline_start;                                         // RE2: first line of a record
  milliseconds multiline_timeout{0};
  uint64_t multiline_max_lines = 0;
  uint64_t multiline_max_bytes = 0;
  std::string drop;          // RE2: matching lines are dropped
  int32_t min_severity = 0;  // OTel severity number; 0 = keep all

  // Delivery.
  std::vector<Endpoint> outputs;
  uint64_t batch_max_entries = 0;
  uint64_t batch_max_bytes = 0;
  milliseconds batch_timeout{0};
  uint64_t buffer_max_bytes = 0;
  uint64_t max_in_flight = 0;
  milliseconds backoff_initial{0};
  milliseconds backoff_max{0};
  milliseconds connect_timeout{0};
  milliseconds ack_timeout{0};
  bool compress = false;
  std::string auth_token;
  std::string auth_token_file;
  std::string tls_ca, tls_cert, tls_key, tls_server_name;
  // HTTP outputs (otlp+http(s), loki+http(s)).
  Labels http_headers;                   // LOGFERRY_OTLP_HEADERS, sent with every request
  bool otlp_gzip = false;                // LOGFERRY_OTLP_COMPRESSION=gzip
  std::string loki_tenant;               // X-Scope-OrgID; "" = none
  std::vector<std::string> loki_labels;  // stream label names (see LOGFERRY_LOKI_LABELS)
  bool loki_structured_metadata = true;           // send level, trace ids, attributes as structured metadata
  bool loki_structured_metadata_fallback = true;  // auto: on Loki's refusal, append them as logfmt instead
  std::string service_name;              // resource service.name; "" = from labels

  // State and lifecycle.
  std::string checkpoint_dir;
  milliseconds checkpoint_interval{0};
  milliseconds shutdown_timeout{0};
  milliseconds drain_quiet{0};  // drain: a source is done once quiet this long

  // Identity: resource labels on every batch.
  Labels labels;
  std::string pod_name, pod_namespace, node_name, container_name;
  std::string pod_labels_file, pod_annotations_file;  // downwardAPI volume files; "" = none

  // Operability.
  std::string http_addr;
  LogLevel log_level = LogLevel::info;
  LogFormat log_format = LogFormat::json;

  // Resource labels in wire order: Downward API names first, then LOGFERRY_LABELS.
  Labels resource_labels() const;
};

// The table behind parsing, --help and --check-config.
std::span<const EnvVar<Config>> config_table();

struct ConfigResult {
  Config config;
  std::vector<EnvError> errors;         // empty when the configuration can be used
  std::vector<ImpliedDefault> implied;  // defaults LOGFERRY_MODE changed, for --check-config
};

// What validating the parsing variables needs from the parse layer, which
// this layer does not link: the table of parser names and the checks that
// compile patterns. The layer that builds the pipeline provides it
// (parser_catalog() in parse/registry.hpp).
struct ParserCatalog {
  std::function<bool(std::string_view)> is_name;               // is this a registered parser?
  std::function<std::string()> names_text;                      // "plain, json, ..." for error texts
  std::function<std::vector<EnvError>(const Config&)> check;    // start-up checks across the parsing variables
};

// Parses and validates the environment (including that the checkpoint
// directory exists or can be created, and is writable, and the parser names
// and patterns through `parsers`).
ConfigResult load_config(const Environment& env, const ParserCatalog& parsers);

// Parses "tcp://host:port[,tcp://host:port...]" and the other output schemes.
std::optional<std::vector<Endpoint>> parse_outputs(std::string_view text);

}  // namespace logferry
