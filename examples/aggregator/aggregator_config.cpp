#include "aggregator/aggregator_config.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <filesystem>

#include <boost/asio/ip/address.hpp>

#include "aggregator/credentials.hpp"
#include "aggregator/relay.hpp"
#include "sidecar/config/member_setters.hpp"
#include "sidecar/config/writable_dir.hpp"
#include "sidecar/core/token_file.hpp"

namespace logferry::aggregator {
namespace {

using Var = EnvVar<AggregatorConfig>;

std::string set_listen(AggregatorConfig& c, std::string_view v) {
  auto hp = parse_host_port(v);
  boost::system::error_code ec;
  if (hp) boost::asio::ip::make_address(hp->first == "localhost" ? "127.0.0.1" : hp->first, ec);
  if (!hp || ec) return "expected HOST:PORT with a numeric IP address, e.g. 0.0.0.0:7070 or 127.0.0.1:0 (port 0: any free port)";
  c.listen_host = hp->first == "localhost" ? "127.0.0.1" : hp->first;
  c.listen_port = hp->second;
  return {};
}

std::string set_max_frame(AggregatorConfig& c, std::string_view v) {
  auto n = parse_size(v);
  if (!n || *n < 1024 || *n > (1ull << 30)) return "expected a size from 1KiB to 1GiB such as 16MiB";
  c.max_frame_bytes = static_cast<uint32_t>(*n);
  return {};
}

std::string set_segment_max(AggregatorConfig& c, std::string_view v) {
  auto n = parse_size(v);
  if (!n || *n < 4096) return "expected a size of at least 4KiB such as 64MiB";
  c.segment_max_bytes = *n;
  return {};
}

std::string set_retention_max(AggregatorConfig& c, std::string_view v) {
  if (v == "0") {
    c.retention_max_bytes = 0;
    return {};
  }
  return set_size<&AggregatorConfig::retention_max_bytes>(c, v, 1u << 20);
}

constexpr std::array kRetentionFullChoices{Choice<RetentionFull>{"slow", RetentionFull::slow},
                                           Choice<RetentionFull>{"delete_oldest", RetentionFull::delete_oldest}};

constexpr std::array kFsyncChoices{Choice<FsyncPolicy>{"always", FsyncPolicy::always},
                                   Choice<FsyncPolicy>{"never", FsyncPolicy::never}};
constexpr std::array kStoreModeChoices{Choice<StoreMode>{"owner", StoreMode::owner},
                                       Choice<StoreMode>{"group", StoreMode::group}};

// A size cap of BatchLimits (at least `min`).
template <uint64_t BatchLimits::*Member, uint64_t Min>
std::string set_limit_size(AggregatorConfig& c, std::string_view v) {
  auto n = parse_size(v);
  if (!n || *n < Min) return fmt::format("expected a size of at least {} such as 4KiB or 24MiB", format_size(Min));
  c.limits.*Member = *n;
  return {};
}

// A count cap of BatchLimits.
template <uint64_t BatchLimits::*Member, uint64_t Min>
std::string set_limit_count(AggregatorConfig& c, std::string_view v) {
  auto n = parse_uint(v, Min, 100000000);
  if (!n) return fmt::format("expected a whole number from {} to 100000000", Min);
  c.limits.*Member = *n;
  return {};
}

constexpr std::array kRelayModeChoices{Choice<RelayMode>{"store_and_forward", RelayMode::store_and_forward},
                                       Choice<RelayMode>{"relay_only", RelayMode::relay_only}};

std::string set_max_connections(AggregatorConfig& c, std::string_view v) {
  auto n = parse_uint(v, 1, 1000000);
  if (!n) return "expected a whole number from 1 to 1000000";
  c.max_connections = *n;
  return {};
}

// A count from 1 to 1000000 (connections, pending handshakes, open files).
template <auto Member>
std::string set_positive_count(AggregatorConfig& c, std::string_view v) {
  return set_count<Member>(c, v, 1, 1000000);
}

std::string set_audit_listen(AggregatorConfig& c, std::string_view v) {
  if (v.empty()) return {};
  auto hp = parse_host_port(v);
  boost::system::error_code ec;
  if (hp) boost::asio::ip::make_address(hp->first == "localhost" ? "127.0.0.1" : hp->first, ec);
  if (!hp || ec) return "expected HOST:PORT with a numeric IP address, e.g. 0.0.0.0:8443 (port 0: any free port)";
  c.audit_listen = std::string(v);
  return {};
}

std::string set_audit_path(AggregatorConfig& c, std::string_view v) {
  if (!v.starts_with('/') || v.find_first_of("?# ") != std::string_view::npos) return "expected a path such as /audit";
  c.audit_path = std::string(v);
  return {};
}

std::string set_audit_max_bytes(AggregatorConfig& c, std::string_view v) {
  auto n = parse_size(v);
  if (!n || *n < 1024 || *n > (1ull << 30)) return "expected a size from 1KiB to 1GiB such as 4MiB";
  c.audit_max_bytes = *n;
  return {};
}

const std::array kTable{
    Var{"LOGFERRY_AGGREGATOR_LISTEN", "0.0.0.0:7070", set_listen,
        "Address to listen on, HOST:PORT. Port 0 picks a free port; the bound address is printed on stdout "
        "as `listening on HOST:PORT`."},
    Var{"LOGFERRY_AGGREGATOR_DATA_DIR", "", set_string<&AggregatorConfig::data_dir>,
        "Directory for the stored entries: DATA_DIR/<namespace>/<pod>/segment-NNNNNN.ndjson. "
        "Required unless LOGFERRY_AGGREGATOR_DISCARD=true."},
    Var{"LOGFERRY_AGGREGATOR_TOKEN", "", set_string<&AggregatorConfig::token>,
        "Token every client must send in its hello; unset: no token required.", Secret::yes},
    Var{"LOGFERRY_AGGREGATOR_TOKEN_FILE", "", set_string<&AggregatorConfig::token_file>,
        "File holding the token (a mounted Secret); read at start and again on a handshake after it changed "
        "(mtime check). Trailing newlines are ignored."},
    Var{"LOGFERRY_AGGREGATOR_MAX_FRAME_BYTES", "16MiB", set_max_frame,
        "Largest frame accepted; a longer frame closes the connection. Announced to clients in the hello ack."},
    Var{"LOGFERRY_AGGREGATOR_HANDSHAKE_TIMEOUT", "5s", set_duration<&AggregatorConfig::handshake_timeout, ZeroDuration::refused>,
        "A client must complete its TLS handshake, and then its hello, each within this time (the hello frame "
        "is at most 8KiB)."},
    Var{"LOGFERRY_AGGREGATOR_IDLE_TIMEOUT", "5m", set_duration<&AggregatorConfig::idle_timeout, ZeroDuration::refused>,
        "A connection with no frame started for this long is closed."},
    Var{"LOGFERRY_AGGREGATOR_FRAME_TIMEOUT", "30s", set_duration<&AggregatorConfig::frame_timeout, ZeroDuration::refused>,
        "A frame, once its first byte arrived, must be complete within this time (stalled peers are closed)."},
    Var{"LOGFERRY_AGGREGATOR_FSYNC", "always", set_enum<&AggregatorConfig::fsync, kFsyncChoices>,
        "always: every ack waits for fdatasync of the batch (one sync covers many connections' batches); "
        "never: ack once written to the page cache (a machine crash can lose acknowledged entries)."},
    Var{"LOGFERRY_AGGREGATOR_SEGMENT_MAX_BYTES", "64MiB", set_segment_max,
        "A segment file is closed and the next one started when a batch would make it larger than this."},
    Var{"LOGFERRY_AGGREGATOR_STORE_MODE", "owner", set_enum<&AggregatorConfig::store_mode, kStoreModeChoices>,
        "owner: segment files are created 0600 and directories 0700 (whatever the umask); group: 0640 and 0750, "
        "for a reader group."},
    Var{"LOGFERRY_AGGREGATOR_MAX_OPEN_SEGMENTS", "256",
        set_positive_count<&AggregatorConfig::max_open_segments>,
        "Segment files kept open; the least recently written is closed beyond this (and reopened on demand)."},
    Var{"LOGFERRY_AGGREGATOR_RETENTION_MAX_BYTES", "0", set_retention_max,
        "Size cap of the store (0: none). Over it, segments are deleted oldest first: with a relay only those "
        "the downstream answered completely, then see LOGFERRY_AGGREGATOR_RETENTION_WHEN_FULL. At least twice "
        "LOGFERRY_AGGREGATOR_SEGMENT_MAX_BYTES."},
    Var{"LOGFERRY_AGGREGATOR_RETENTION_MAX_AGE", "0",
        set_duration<&AggregatorConfig::retention_max_age, ZeroDuration::allowed>,
        "Segments last written longer ago than this are deleted (0: none); with a relay only once relayed."},
    Var{"LOGFERRY_AGGREGATOR_RETENTION_WHEN_FULL", "slow",
        set_enum<&AggregatorConfig::retention_when_full, kRetentionFullChoices>,
        "At the size cap with a relay behind: slow (sidecars are acknowledged only as the relay frees room; "
        "nothing is lost) or delete_oldest (unrelayed segments are deleted, their lines counted in "
        "retention_unrelayed_entries_deleted_total and logged)."},
    Var{"LOGFERRY_AGGREGATOR_CREDENTIALS_FILE", "", set_string<&AggregatorConfig::credentials_file>,
        "Per-namespace credentials: lines `sha256:HEX GLOBS` (HEX: the SHA-256 of a token; GLOBS: comma-separated "
        "namespace patterns such as team-a,team-a-*), or `uri:NAME GLOBS`, `dns:NAME GLOBS`, `cn:NAME GLOBS` naming "
        "a client certificate (mutual TLS) by a subjectAltName or its common name; a client may write only the "
        "namespaces its token or certificate allows. Read at start and again when it changes. See docs/security.md."},
    Var{"LOGFERRY_AGGREGATOR_MAX_BATCH_ENTRIES", "100000", set_limit_count<&BatchLimits::max_entries, 1>,
        "Entries (and sources) per batch; a larger batch is acknowledged as rejected."},
    Var{"LOGFERRY_AGGREGATOR_MAX_LABELS", "64", set_limit_count<&BatchLimits::max_labels, 1>,
        "Resource labels of a batch or of one of its sources; more: the batch is rejected."},
    Var{"LOGFERRY_AGGREGATOR_MAX_LABEL_BYTES", "4KiB", set_limit_size<&BatchLimits::max_label_bytes, 16>,
        "Size of one resource label (key and value); larger: the batch is rejected."},
    Var{"LOGFERRY_AGGREGATOR_MAX_PATH_BYTES", "4KiB", set_limit_size<&BatchLimits::max_path_bytes, 16>,
        "Size of a source's path or id; larger: the batch is rejected."},
    Var{"LOGFERRY_AGGREGATOR_MAX_BATCH_RENDERED_BYTES", "24MiB",
        set_limit_size<&BatchLimits::max_rendered_bytes, 4096>,
        "Size of a batch's ndjson lines as stored (each line repeats its source's path and resource); larger: "
        "the batch is rejected. Bounds the memory and disk one frame can cost."},
    Var{"LOGFERRY_AGGREGATOR_DISCARD", "false", set_bool<&AggregatorConfig::discard>,
        "true: acknowledge batches without storing them (for benchmarks); no dedupe."},
    Var{"LOGFERRY_AGGREGATOR_RELAY", "", set_string<&AggregatorConfig::relay>,
        "Forward every batch to otlp+http(s)://HOST[:PORT][/PATH] or loki+http(s)://HOST[:PORT][/PATH], "
        "configured like the sidecar's output (LOGFERRY_OTLP_*, LOGFERRY_LOKI_*, LOGFERRY_SERVICE_NAME, "
        "LOGFERRY_TLS_*, LOGFERRY_BACKOFF_*); unset: no relay.",
        Secret::url},
    Var{"LOGFERRY_AGGREGATOR_RELAY_MODE", "store_and_forward",
        set_enum<&AggregatorConfig::relay_mode, kRelayModeChoices>,
        "store_and_forward: acknowledge sidecars after the durable local write; the relay reads the store from "
        "per-Pod cursors saved after the downstream answered, and resumes from them after a restart (lines after "
        "the last saved cursor are sent again, with the same bytes); relay_only: store nothing, acknowledge once "
        "the downstream accepted."},
    Var{"LOGFERRY_AGGREGATOR_MAX_CONNECTIONS", "4096", set_max_connections,
        "Authenticated sessions above this number are refused (closed at accept when the sessions are full, "
        "or answered with a refused hello)."},
    Var{"LOGFERRY_AGGREGATOR_MAX_PENDING", "64", set_positive_count<&AggregatorConfig::max_pending>,
        "Connections that have not completed their hello (TLS handshakes included), a separate budget from "
        "LOGFERRY_AGGREGATOR_MAX_CONNECTIONS: when full, the oldest of them is closed to make room."},
    Var{"LOGFERRY_AGGREGATOR_MAX_PENDING_PER_PEER", "16", set_positive_count<&AggregatorConfig::max_pending_per_peer>,
        "Of those, at most this many from one peer address; a further one makes that address's oldest close."},
    Var{"LOGFERRY_AGGREGATOR_TLS_CERT", "", set_string<&AggregatorConfig::tls_cert>,
        "PEM certificate chain of the server; set: clients must speak TLS (tls://)."},
    Var{"LOGFERRY_AGGREGATOR_TLS_KEY", "", set_string<&AggregatorConfig::tls_key>,
        "PEM private key of LOGFERRY_AGGREGATOR_TLS_CERT."},
    Var{"LOGFERRY_AGGREGATOR_TLS_CLIENT_CA", "", set_string<&AggregatorConfig::tls_client_ca>,
        "PEM CAs for client certificates; set: every client must present a certificate they signed (mutual TLS)."},
    Var{"LOGFERRY_AGGREGATOR_HTTP_ADDR", "", set_string<&AggregatorConfig::http_addr>,
        "HOST:PORT for /healthz, /readyz and /metrics (Prometheus text); unset: no HTTP endpoint. The bound "
        "address is printed on stdout as `http endpoint on HOST:PORT`."},
    Var{"LOGFERRY_AGGREGATOR_AUDIT_LISTEN", "", set_audit_listen,
        "HOST:PORT of the Kubernetes audit webhook receiver (POST of audit.k8s.io/v1 EventList JSON, served over "
        "TLS with the LOGFERRY_AGGREGATOR_TLS_* settings when they are set); unset: no audit receiver. The bound "
        "address is printed on stdout as `audit endpoint on HOST:PORT`."},
    Var{"LOGFERRY_AGGREGATOR_AUDIT_PATH", "/audit", set_audit_path,
        "Path the audit webhook posts to; other paths get 404."},
    Var{"LOGFERRY_AGGREGATOR_AUDIT_MAX_BYTES", "4MiB", set_audit_max_bytes,
        "Largest audit request body; a larger one is answered 413 without being stored."},
    Var{"LOGFERRY_AGGREGATOR_AUDIT_TOKEN_FILE", "", set_string<&AggregatorConfig::audit_token_file>,
        "File holding the bearer token the API server sends (`token` in its webhook kubeconfig); read again on "
        "each request, trailing newlines ignored. Requests without it are answered 401. The audit webhook needs "
        "this or LOGFERRY_AGGREGATOR_TLS_CLIENT_CA, unless LOGFERRY_AGGREGATOR_AUDIT_INSECURE=true."},
    Var{"LOGFERRY_AGGREGATOR_AUDIT_INSECURE", "false", set_bool<&AggregatorConfig::audit_insecure>,
        "true: run the audit webhook without client authentication (anyone who reaches it can write audit "
        "events); a warning is logged at start."},
    Var{"LOGFERRY_LOG_LEVEL", "info", set_enum<&AggregatorConfig::log_level, kLogLevelChoices>,
        "Threshold of the aggregator's own log lines on stderr."},
    Var{"LOGFERRY_LOG_FORMAT", "json", set_enum<&AggregatorConfig::log_format, kLogFormatChoices>,
        "Format of the aggregator's own log lines on stderr."},
};

void add_error(std::vector<EnvError>& errors, std::string_view name, std::string_view value, std::string_view what) {
  errors.push_back({std::string(name), env_error_text(name, value, what)});
}

}  // namespace

std::span<const EnvVar<AggregatorConfig>> aggregator_config_table() { return kTable; }

AggregatorConfigResult load_aggregator_config(const Environment& env) {
  AggregatorConfigResult r;
  static constexpr std::array<std::string_view, 0> kNoForeign{};
  r.errors = apply_environment<AggregatorConfig>(kTable, env, r.config, "LOGFERRY_AGGREGATOR_", kNoForeign);
  auto& c = r.config;
  if (!c.token.empty() && !c.token_file.empty()) {
    add_error(r.errors, "LOGFERRY_AGGREGATOR_TOKEN_FILE", c.token_file,
              "set either LOGFERRY_AGGREGATOR_TOKEN or LOGFERRY_AGGREGATOR_TOKEN_FILE, not both");
  } else if (!c.token_file.empty()) {
    auto t = read_token_file(c.token_file);
    if (!t) add_error(r.errors, "LOGFERRY_AGGREGATOR_TOKEN_FILE", c.token_file, "expected a readable file");
    else if (t->empty()) add_error(r.errors, "LOGFERRY_AGGREGATOR_TOKEN_FILE", c.token_file, "expected a non-empty token");
    else c.token = std::move(*t);
  }
  if (!c.credentials_file.empty()) {
    Credentials credentials(c.credentials_file);
    if (auto why = credentials.load(); !why.empty()) {
      add_error(r.errors, "LOGFERRY_AGGREGATOR_CREDENTIALS_FILE", c.credentials_file, why);
    }
  }
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    add_error(r.errors, "LOGFERRY_AGGREGATOR_TLS_KEY", c.tls_key.empty() ? "" : "<set>",
              "LOGFERRY_AGGREGATOR_TLS_CERT and LOGFERRY_AGGREGATOR_TLS_KEY go together");
  }
  if (!c.tls_client_ca.empty() && c.tls_cert.empty()) {
    add_error(r.errors, "LOGFERRY_AGGREGATOR_TLS_CLIENT_CA", c.tls_client_ca,
              "needs LOGFERRY_AGGREGATOR_TLS_CERT and LOGFERRY_AGGREGATOR_TLS_KEY");
  }
  if (c.retention_max_bytes != 0 && c.retention_max_bytes < 2 * c.segment_max_bytes) {
    add_error(r.errors, "LOGFERRY_AGGREGATOR_RETENTION_MAX_BYTES", format_size(c.retention_max_bytes),
              fmt::format("expected 0 or at least twice LOGFERRY_AGGREGATOR_SEGMENT_MAX_BYTES ({})",
                          format_size(2 * c.segment_max_bytes)));
  }
  const bool relay_only = !c.relay.empty() && c.relay_mode == RelayMode::relay_only;
  if (!c.relay.empty()) {
    for (auto& e : relay_output_options(env, c.relay, c.relay_output)) r.errors.push_back(std::move(e));
    // relay_only forwards each sidecar's batch bytes as they came (with that
    // sidecar's sequence numbers), which only the HTTP outputs ignore.
    if (relay_only && (c.relay.starts_with("tcp://") || c.relay.starts_with("tls://"))) {
      add_error(r.errors, "LOGFERRY_AGGREGATOR_RELAY", redact_urls(c.relay),
                "relay_only needs an otlp+http(s):// or loki+http(s):// output; a tcp:// or tls:// aggregator "
                "downstream works with LOGFERRY_AGGREGATOR_RELAY_MODE=store_and_forward");
    }
  } else if (c.relay_mode == RelayMode::relay_only) {
    add_error(r.errors, "LOGFERRY_AGGREGATOR_RELAY_MODE", "relay_only", "needs LOGFERRY_AGGREGATOR_RELAY");
  }
  if (!c.audit_listen.empty() && c.tls_client_ca.empty() && c.audit_token_file.empty() && !c.audit_insecure) {
    add_error(r.errors, "LOGFERRY_AGGREGATOR_AUDIT_LISTEN", c.audit_listen,
              "the audit webhook needs client authentication: set LOGFERRY_AGGREGATOR_AUDIT_TOKEN_FILE (the "
              "API server's bearer token) or LOGFERRY_AGGREGATOR_TLS_CLIENT_CA (client certificates), or "
              "LOGFERRY_AGGREGATOR_AUDIT_INSECURE=true to accept anyone");
  }
  if (!c.audit_token_file.empty()) {
    if (c.audit_listen.empty()) {
      add_error(r.errors, "LOGFERRY_AGGREGATOR_AUDIT_TOKEN_FILE", c.audit_token_file,
                "needs LOGFERRY_AGGREGATOR_AUDIT_LISTEN");
    } else if (TokenFile(c.audit_token_file, {}).current().empty()) {
      add_error(r.errors, "LOGFERRY_AGGREGATOR_AUDIT_TOKEN_FILE", c.audit_token_file,
                "expected a readable file holding a non-empty token");
    }
  }
  if (!c.audit_listen.empty() && relay_only) {
    add_error(r.errors, "LOGFERRY_AGGREGATOR_AUDIT_LISTEN", c.audit_listen,
              "audit events are stored locally: not available with LOGFERRY_AGGREGATOR_RELAY_MODE=relay_only");
  }
  if (!c.discard && !relay_only) {
    if (c.data_dir.empty()) {
      add_error(r.errors, "LOGFERRY_AGGREGATOR_DATA_DIR", "",
                "required (a writable directory) unless LOGFERRY_AGGREGATOR_DISCARD=true");
    } else if (auto why = check_writable_dir(c.data_dir); !why.empty()) {
      add_error(r.errors, "LOGFERRY_AGGREGATOR_DATA_DIR", c.data_dir, "expected a writable directory; " + why);
    }
  }
  return r;
}

TokenFile::TokenFile(std::string path, std::string initial) : path_(std::move(path)), token_(std::move(initial)) {
  current();
}

const std::string& TokenFile::current() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return token_;
  const FileStamp now = FileStamp::of(st);
  if (now == stamp_) return token_;
  auto t = read_token_file(path_);
  if (!t || t->empty()) return token_;  // keep the last good token; try again next time
  stamp_ = now;
  if (*t != token_) {
    if (!token_.empty()) log_info("token file changed: using the new token", {{"path", path_}});
    token_ = std::move(*t);
  }
  return token_;
}

}  // namespace logferry::aggregator
