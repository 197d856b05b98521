#pragma once
// The aggregator's settings: a typed struct filled from one table of
// environment variables (the same generic table as the sidecar's).
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "aggregator/batch_limits.hpp"
#include "sidecar/config/config.hpp"
#include "sidecar/config/env_table.hpp"
#include "sidecar/core/file_stamp.hpp"
#include "sidecar/core/logger.hpp"

namespace logferry::aggregator {

using std::chrono::milliseconds;

// always: fdatasync (grouped across connections) before every ack.
// never: ack once written to the page cache; a machine crash loses acked data.
enum class FsyncPolicy { always, never };

// owner: segments 0600, directories 0700; group: 0640 and 0750 (a reader group).
enum class StoreMode { owner, group };

// store_and_forward: ack after the durable local write, relay asynchronously.
// relay_only: no local store; ack once the downstream accepted the batch.
enum class RelayMode { store_and_forward, relay_only };

// What the store does at its size cap with segments the relay has not delivered:
// slow: keep them, slow the sidecars down; delete_oldest: delete them (counted, logged).
enum class RetentionFull { slow, delete_oldest };

struct AggregatorConfig {
  std::string listen_host = "0.0.0.0";
  uint16_t listen_port = 7070;
  std::string data_dir;
  std::string token;       // "" = no token required
  std::string token_file;  // read into token at load time
  uint32_t max_frame_bytes = 16u << 20;
  milliseconds handshake_timeout{5000};
  milliseconds idle_timeout{300000};
  milliseconds frame_timeout{30000};
  FsyncPolicy fsync = FsyncPolicy::always;
  uint64_t segment_max_bytes = 64u << 20;
  StoreMode store_mode = StoreMode::owner;
  uint64_t max_open_segments = 256;
  uint64_t retention_max_bytes = 0;           // 0: no cap
  milliseconds retention_max_age{0};          // 0: kept until the cap
  RetentionFull retention_when_full = RetentionFull::slow;
  BatchLimits limits;
  std::string credentials_file;  // token hashes (or token files) -> namespace globs; "" = none
  bool discard = false;
  uint64_t max_connections = 4096;       // authenticated sessions
  uint64_t max_pending = 64;             // connections not yet authenticated (TLS handshakes included)
  uint64_t max_pending_per_peer = 16;    // of those, from one peer address
  std::string relay;  // LOGFERRY_AGGREGATOR_RELAY (otlp+http://..., loki+http://...); "" = no relay
  RelayMode relay_mode = RelayMode::store_and_forward;
  OutputOptions relay_output;  // the relay's output settings, from the sidecar's output variables
  std::string tls_cert;       // PEM server certificate chain; "" = plain TCP
  std::string tls_key;        // PEM private key of tls_cert
  std::string tls_client_ca;  // PEM CAs for client certificates; set = client certificates required
  std::string http_addr;      // HOST:PORT of /healthz /readyz /metrics; "" = none
  std::string audit_listen;   // HOST:PORT of the audit webhook receiver; "" = none
  std::string audit_path = "/audit";         // path of the audit webhook (query strings ignored)
  uint64_t audit_max_bytes = 4u << 20;       // largest audit request body; larger: 413
  std::string audit_token_file;              // bearer token the API server must send; read per request
  bool audit_insecure = false;               // true: accept the webhook without client authentication
  LogLevel log_level = LogLevel::info;
  LogFormat log_format = LogFormat::json;
};

// The table behind parsing, --help and --check-config.
std::span<const EnvVar<AggregatorConfig>> aggregator_config_table();

struct AggregatorConfigResult {
  AggregatorConfig config;
  std::vector<EnvError> errors;  // empty when the configuration can be used
};

// Parses and validates the environment: reads the token file, checks that the
// data directory exists or can be created and is writable (unless discarding).
AggregatorConfigResult load_aggregator_config(const Environment& env);

// The token of LOGFERRY_AGGREGATOR_TOKEN_FILE, read again whenever the file's
// identity, size or mtime changed (a rotated Secret); the last good token is
// kept while the file is unreadable or empty.
class TokenFile {
 public:
  TokenFile(std::string path, std::string initial);
  // Checks the file (one stat) and returns the current token.
  const std::string& current();

 private:
  std::string path_;
  std::string token_;
  FileStamp stamp_;
};

}  // namespace logferry::aggregator
