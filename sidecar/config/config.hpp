#pragma once
// The sidecar's settings: a typed struct filled from one table of environment
// variables (see config.cpp), validated as a whole at start-up.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sidecar/config/env_table.hpp"
#include "sidecar/core/batch_policy.hpp"
#include "sidecar/core/kube_options.hpp"
#include "sidecar/core/labels.hpp"
#include "sidecar/core/logger.hpp"
#include "sidecar/core/output_options.hpp"
#include "sidecar/core/parse_options.hpp"
#include "sidecar/core/source_options.hpp"

namespace logferry {

using std::chrono::milliseconds;

// Who this Pod is: resource labels on every batch (Downward API names first,
// then LOGFERRY_LABELS), and the downwardAPI files of its labels and annotations.
struct IdentityOptions {
  Labels labels;                                      // LOGFERRY_LABELS
  std::string pod_name, pod_namespace, node_name, container_name;
  std::string pod_labels_file, pod_annotations_file;  // downwardAPI volume files; "" = none

  // Resource labels in wire order: Downward API names first, then LOGFERRY_LABELS.
  Labels resource_labels() const;
};

// logferry's own log lines.
struct LogOptions {
  LogLevel level = LogLevel::info;
  LogFormat format = LogFormat::json;
};

// The sidecar's settings: one options struct per stage, each filled by its
// variables of the one table below (config_table()), validated as a whole.
struct Config {
  FileSourceOptions files;  // files.mode is LOGFERRY_MODE
  PipeSourceOptions pipe;
  bool read_stdin = false;
  ReadOptions read;
  ParseOptions parse;
  BatchPolicy batch;
  OutputOptions output;
  IdentityOptions identity;
  // Node mode: Pod metadata from the API server. kube_api is auto (the
  // in-cluster API server when running in a Pod), off, or https://HOST:PORT;
  // kube.api_url is resolved from it by the application.
  std::string kube_api = "auto";
  KubeOptions kube;
  milliseconds kube_wait{2000};  // start-up: reading waits this long at most for the first Pod list

  // State and lifecycle.
  std::string checkpoint_dir = "/var/lib/logferry";
  milliseconds checkpoint_interval{1000};
  milliseconds shutdown_timeout{25000};

  // Operability.
  std::string http_addr;
  LogOptions log;

  Mode mode() const { return files.mode; }
};

// The table behind parsing, --help and --check-config: every variable of the
// sidecar, including those of the parts below.
std::span<const EnvVar<Config>> config_table();

// The parts of the table that other programs reuse with their own structs:
// the client library (identity, batch, output, logging) and the aggregator's
// relay (output).
std::span<const EnvVar<OutputOptions>> output_table();
std::span<const EnvVar<BatchPolicy>> batch_table();
std::span<const EnvVar<IdentityOptions>> identity_table();
std::span<const EnvVar<LogOptions>> log_table();

// The checks across the output's variables (token file readable, backoff
// order, TLS pairs, and with `batch` the buffer against the batch size) that
// load_config runs; for the client and the relay, which fill OutputOptions
// themselves.
std::vector<EnvError> check_output_options(const OutputOptions& output, const BatchPolicy* batch = nullptr);

// LOGFERRY_OUTPUT is required: the error when `output` has none.
std::optional<EnvError> missing_output(const OutputOptions& output);

// Labels travel as protobuf strings, Prometheus labels and JSON: names and
// labels made valid UTF-8 (invalid bytes become U+FFFD) once, at start-up.
void repair_utf8(IdentityOptions& identity, OutputOptions& output);

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
  std::function<std::vector<EnvError>(const ParseOptions&)> check;  // start-up checks across the parsing variables
};

// Parses and validates the environment (including that the checkpoint
// directory exists or can be created, and is writable, and the parser names
// and patterns through `parsers`).
ConfigResult load_config(const Environment& env, const ParserCatalog& parsers);

// Parses "tcp://host:port[,tcp://host:port...]" and the other output schemes.
std::optional<std::vector<Endpoint>> parse_outputs(std::string_view text);

}  // namespace logferry
