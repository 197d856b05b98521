#pragma once
// Where and how batches are delivered: the Forwarder, the sinks and the
// encoders. Shared by the sidecar, the client library and the aggregator's
// relay; plain data, filled from the environment (output_table() in
// config/config.hpp) or by a test.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "sidecar/core/labels.hpp"

namespace logferry {

// One destination: scheme "tcp" / "tls" (native protocol), "otlp+http(s)"
// or "loki+http(s)".
struct Endpoint {
  std::string scheme;
  std::string host;
  uint16_t port = 0;
  std::string path;  // for HTTP outputs; "" otherwise
  std::string text;  // as written, for messages (credentials and query redacted)

  bool operator==(const Endpoint&) const = default;
};

struct OutputOptions {
  std::vector<Endpoint> outputs;  // LOGFERRY_OUTPUT: failover in order, all of one kind
  // Delivery (the Forwarder).
  uint64_t buffer_max_bytes = 4 * 1024 * 1024;
  uint64_t max_in_flight = 8;
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{30000};
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds ack_timeout{30000};
  // The native protocol (tcp://, tls://).
  bool compress = false;
  std::string auth_token;
  std::string auth_token_file;
  std::string tls_ca, tls_cert, tls_key, tls_server_name;
  // HTTP outputs (otlp+http(s), loki+http(s)).
  Labels http_headers;                   // LOGFERRY_OTLP_HEADERS, sent with every request
  bool otlp_gzip = false;                // LOGFERRY_OTLP_COMPRESSION=gzip
  std::string loki_tenant;               // X-Scope-OrgID; "" = none
  std::vector<std::string> loki_labels{"namespace", "pod", "container", "filename"};  // stream labels
  bool loki_structured_metadata = true;           // level, trace ids, attributes as structured metadata
  bool loki_structured_metadata_fallback = true;  // auto: on Loki's refusal, append them as logfmt instead
  std::string service_name;              // resource service.name; "" = from labels

  bool operator==(const OutputOptions&) const = default;
};

}  // namespace logferry
