#include "sidecar/config/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "sidecar/config/member_setters.hpp"
#include "sidecar/parse/registry.hpp"
#include "sidecar/parse/severity.hpp"

namespace logferry {
namespace {

using Var = EnvVar<Config>;

// A duration; zero is allowed (it turns a wait off). The other setters are in member_setters.hpp.
template <auto Member>
std::string set_duration(Config& c, std::string_view v) {
  auto d = parse_duration(v);
  if (!d) return "expected a duration such as 250ms, 5s or 2m";
  c.*Member = *d;
  return {};
}

constexpr std::array kReadFromChoices{Choice<ReadFrom>{"head", ReadFrom::head},
                                      Choice<ReadFrom>{"tail", ReadFrom::tail}};
constexpr std::array kPipeOverflowChoices{Choice<PipeOverflow>{"block", PipeOverflow::block},
                                          Choice<PipeOverflow>{"drop_oldest", PipeOverflow::drop_oldest},
                                          Choice<PipeOverflow>{"drop_newest", PipeOverflow::drop_newest}};
constexpr std::array kOtlpCompressionChoices{Choice<bool>{"none", false}, Choice<bool>{"gzip", true}};

// "0622", "622" or "0o622": an octal file mode the owner can read and write.
std::optional<uint32_t> parse_octal_mode(std::string_view v) {
  if (v.starts_with("0o")) v.remove_prefix(2);
  if (v.empty() || v.size() > 4) return std::nullopt;
  uint32_t mode = 0;
  for (const char ch : v) {
    if (ch < '0' || ch > '7') return std::nullopt;
    mode = mode * 8 + static_cast<uint32_t>(ch - '0');
  }
  if (mode > 0777 || (mode & 0600) != 0600) return std::nullopt;
  return mode;
}

const std::array kTable{
    Var{"LOGFERRY_FILES", "", [](Config& c, std::string_view v) { c.files = split_list(v); return std::string(); },
        "Comma-separated globs of files to tail, e.g. /var/log/app/*.log; ** matches any depth."},
    Var{"LOGFERRY_MODE", "sidecar",
        [](Config& c, std::string_view v) {
          if (v == "sidecar") c.mode = Mode::sidecar;
          else if (v == "node") c.mode = Mode::node;
          else return std::string("expected sidecar or node");
          return std::string();
        },
        "sidecar (next to one app in its Pod) or node (a DaemonSet agent): node mode reads "
        "/var/log/containers/*.log with the cri parser unless LOGFERRY_FILES / LOGFERRY_PARSER say otherwise, "
        "and labels each file's entries with the k8s.pod.name, k8s.namespace.name, k8s.container.name and "
        "container.id taken from its name (<pod>_<namespace>_<container>-<id>.log)."},
    Var{"LOGFERRY_EXCLUDE", "", [](Config& c, std::string_view v) { c.exclude = split_list(v); return std::string(); },
        "Comma-separated globs of files never to read, even when LOGFERRY_FILES matches them."},
    Var{"LOGFERRY_READ_FROM", "head", set_enum<&Config::read_from, kReadFromChoices>,
        "Where to start a file seen for the first time (no checkpoint): head or tail."},
    Var{"LOGFERRY_PIPE", "", set_string<&Config::pipe>,
        "Path of a named pipe (FIFO) the app writes its lines into; created if missing. logferry keeps it "
        "open for writing too, so it never sees end-of-file and several writers may come and go."},
    Var{"LOGFERRY_PIPE_MODE", "0622",
        [](Config& c, std::string_view v) {
          auto m = parse_octal_mode(v);
          if (!m) return std::string("expected an octal mode from 0600 to 0777 such as 0622 or 0660");
          c.pipe_mode = *m;
          return std::string();
        },
        "Permissions of a FIFO logferry creates (umask not applied). 0622: any user of the Pod's containers "
        "may write (the app may run as another user), only logferry reads; use 0660 with a shared fsGroup."},
    Var{"LOGFERRY_STDIN", "false", set_bool<&Config::read_stdin>,
        "Read lines from standard input (app | logferry); at end-of-file drain and exit 0."},
    Var{"LOGFERRY_SPILL_DIR", "",
        set_string<&Config::spill_dir>,
        "Where pipe lines go on disk while the output is slow or down (segment files, replayed in order, "
        "also after a restart). Default: the pipe-spill directory inside LOGFERRY_CHECKPOINT_DIR."},
    Var{"LOGFERRY_SPILL_MAX_BYTES", "64MiB",
        [](Config& c, std::string_view v) {
          auto n = parse_size(v);
          if (!n || (*n != 0 && *n < 64 * 1024))
            return std::string("expected 0 (no spilling) or a size of at least 64KiB such as 64MiB or 1GiB");
          c.spill_max_bytes = *n;
          return std::string();
        },
        "Cap on the pipe's spill directory; beyond it LOGFERRY_PIPE_OVERFLOW applies. 0: no spilling."},
    Var{"LOGFERRY_PIPE_OVERFLOW", "block", set_enum<&Config::pipe_overflow, kPipeOverflowChoices>,
        "When memory and spill are full: block (stop reading; the app's writes block), drop_oldest (discard "
        "the oldest spilled segment) or drop_newest (discard incoming lines). Drops are counted."},
    Var{"LOGFERRY_OUTPUT", "",
        [](Config& c, std::string_view v) {
          auto eps = parse_outputs(v);
          if (!eps)
            return std::string(
                "expected tcp://HOST:PORT or tls://HOST:PORT (several separated by commas for failover), "
                "otlp+http(s)://HOST[:PORT][/PATH] or loki+http(s)://HOST[:PORT][/PATH]");
          c.outputs = std::move(*eps);
          return std::string();
        },
        "Where to send entries: tcp://HOST:PORT (the logferry aggregator) or tls://HOST:PORT; "
        "otlp+http://HOST:4318 (OpenTelemetry, POST /v1/logs) or otlp+https://...; "
        "loki+http://HOST:3100 (Grafana Loki, POST /loki/api/v1/push) or loki+https://...; a path after the "
        "port replaces the default one. Several comma-separated addresses of one kind fail over in order. Required."},
    Var{"LOGFERRY_CHECKPOINT_DIR", "/var/lib/logferry", set_string<&Config::checkpoint_dir>,
        "Directory for the checkpoint file (read offsets acknowledged by the output). Must be writable; "
        "put it on the shared emptyDir so it survives container restarts."},
    Var{"LOGFERRY_CHECKPOINT_INTERVAL", "1s", set_duration<&Config::checkpoint_interval>,
        "How often the checkpoint file is fsynced (also on shutdown). Acknowledged offsets reach the "
        "OS within 100ms regardless, so a killed logferry re-sends only its unacknowledged window."},
    Var{"LOGFERRY_LABELS", "",
        [](Config& c, std::string_view v) {
          auto l = parse_labels(v);
          if (!l) return std::string("expected comma-separated key=value pairs, e.g. team=payments,env=prod");
          c.labels = std::move(*l);
          return std::string();
        },
        "Extra resource labels added to every batch: key=value,key2=value2."},
    Var{"POD_NAME", "", set_string<&Config::pod_name>, "Downward API: the Pod's name (label k8s.pod.name)."},
    Var{"POD_NAMESPACE", "", set_string<&Config::pod_namespace>,
        "Downward API: the Pod's namespace (label k8s.namespace.name)."},
    Var{"NODE_NAME", "", set_string<&Config::node_name>, "Downward API: the node's name (label k8s.node.name)."},
    Var{"CONTAINER_NAME", "", set_string<&Config::container_name>,
        "The app container's name (label k8s.container.name)."},
    Var{"LOGFERRY_POD_LABELS_FILE", "", set_string<&Config::pod_labels_file>,
        "A downwardAPI volume file of the Pod's labels (fieldRef metadata.labels): each becomes the resource "
        "label k8s.pod.label.<key> on every batch; re-read when the kubelet updates it. Must be readable at start."},
    Var{"LOGFERRY_POD_ANNOTATIONS_FILE", "", set_string<&Config::pod_annotations_file>,
        "Like LOGFERRY_POD_LABELS_FILE for metadata.annotations: resource labels k8s.pod.annotation.<key>."},
    Var{"LOGFERRY_PARSER", "plain",
        [](Config& c, std::string_view v) {
          if (!is_parser_name(v)) return "expected one of: " + parser_names_text();
          c.parser = std::string(v);
          return std::string();
        },
        "How lines become entries, for all sources: plain, json, logfmt, regex, cri, docker, nginx, apache, "
        "syslog, klog, k8s-audit or auto."},
    Var{"LOGFERRY_PARSERS", "",
        [](Config& c, std::string_view v) {
          c.parser_overrides.clear();
          for (const auto& item : split_list(v, ';')) {
            const size_t eq = item.rfind('=');
            if (eq == std::string::npos || eq == 0)
              return std::string("expected GLOB=PARSER pairs separated by ';', e.g. /var/log/app/*.json=json");
            std::string name = item.substr(eq + 1);
            if (!is_parser_name(name))
              return fmt::format("unknown parser \"{}\" for {}: expected one of: {}", name, item.substr(0, eq),
                                 parser_names_text());
            c.parser_overrides.emplace_back(item.substr(0, eq), std::move(name));
          }
          return std::string();
        },
        "Per-source parsers: GLOB=PARSER;GLOB=PARSER (fnmatch on the file path, first match wins), "
        "e.g. /var/log/app/access.log=nginx;/var/log/app/*.json=json. Others use LOGFERRY_PARSER."},
    Var{"LOGFERRY_REGEX", "", set_string<&Config::regex>,
        "RE2 pattern of the regex parser; named groups (?P<name>...) become attributes, groups named like "
        "LOGFERRY_MESSAGE_FIELDS/TIME_FIELDS/LEVEL_FIELDS set the body, time and severity."},
    Var{"LOGFERRY_MESSAGE_FIELDS", "msg,message,log",
        [](Config& c, std::string_view v) { c.message_fields = split_list(v); return std::string(); },
        "Fields of structured lines (json, logfmt, regex, klog) used as the body; the first present wins."},
    Var{"LOGFERRY_TIME_FIELDS", "time,ts,timestamp,@timestamp",
        [](Config& c, std::string_view v) { c.time_fields = split_list(v); return std::string(); },
        "Fields holding the event time: RFC 3339 or epoch seconds/ms/us/ns (guessed by magnitude)."},
    Var{"LOGFERRY_LEVEL_FIELDS", "level,severity,lvl,loglevel",
        [](Config& c, std::string_view v) { c.level_fields = split_list(v); return std::string(); },
        "Fields holding the level (info, WARN, E, 30, ...), mapped to the OpenTelemetry severity."},
    Var{"LOGFERRY_MULTILINE", "",
        [](Config& c, std::string_view v) {
          if (!v.empty() && v != "java" && v != "python" && v != "go")
            return std::string("expected java, python or go");
          c.multiline = std::string(v);
          return std::string();
        },
        "Join stack traces into one entry with a preset: java, python or go."},
    Var{"LOGFERRY_MULTILINE_START", "", set_string<&Config::multiline_start>,
        "RE2 pattern matching the first line of a record; other lines are joined to the record before them."},
    Var{"LOGFERRY_MULTILINE_TIMEOUT", "1s", set_duration<&Config::multiline_timeout>,
        "A held record (multiline, or a partial cri/docker line) is forwarded after this long without more lines."},
    Var{"LOGFERRY_MULTILINE_MAX_LINES", "500",
        [](Config& c, std::string_view v) { return set_count<&Config::multiline_max_lines>(c, v, 1, 100000); },
        "A record is cut after this many lines (the rest starts a new entry)."},
    Var{"LOGFERRY_MULTILINE_MAX_BYTES", "256KiB",
        [](Config& c, std::string_view v) { return set_size<&Config::multiline_max_bytes>(c, v, 1024); },
        "A record is cut before it grows beyond this size (the rest starts a new entry)."},
    Var{"LOGFERRY_DROP", "", set_string<&Config::drop>,
        "RE2 pattern: lines matching it are dropped before parsing (and counted)."},
    Var{"LOGFERRY_MIN_SEVERITY", "",
        [](Config& c, std::string_view v) {
          c.min_severity = v.empty() ? 0 : parse_min_severity(v);
          if (c.min_severity == 0 && !v.empty()) return std::string("expected trace, debug, info, warn, error, fatal or 1 to 24");
          return std::string();
        },
        "Entries with a known severity below this are dropped (entries without a level are kept)."},
    Var{"LOGFERRY_MAX_LINE_BYTES", "256KiB", [](Config& c, std::string_view v) { return set_size<&Config::max_line_bytes>(c, v, 64); },
        "Longer lines are cut to this size, forwarded with attribute log.truncated=true and counted."},
    Var{"LOGFERRY_PARTIAL_FLUSH", "5s", set_duration<&Config::partial_flush>,
        "A last line without a newline is forwarded after this long without more bytes."},
    Var{"LOGFERRY_ROTATE_WAIT", "10s", set_duration<&Config::rotate_wait>,
        "After a file is renamed away or deleted, keep reading it until it has been quiet this long."},
    Var{"LOGFERRY_POLL_INTERVAL", "1s", set_duration<&Config::poll_interval>,
        "How often globs are re-scanned and files checked, in addition to inotify wake-ups."},
    Var{"LOGFERRY_INOTIFY", "true", set_bool<&Config::inotify>,
        "Use inotify for prompt wake-ups; false: polling only (for file systems without inotify "
        "events, e.g. some network mounts). Polling is also the fallback when inotify fails."},
    Var{"LOGFERRY_READ_BUDGET_BYTES", "1MiB", [](Config& c, std::string_view v) { return set_size<&Config::read_budget_bytes>(c, v, 4096); },
        "Bytes read from one file before moving to the next (round-robin fairness)."},
    Var{"LOGFERRY_MAX_OPEN_FILES", "512", [](Config& c, std::string_view v) { return set_count<&Config::max_open_files>(c, v, 1, 65536); },
        "Most files held open at once; further files wait their turn."},
    Var{"LOGFERRY_BATCH_MAX_ENTRIES", "4096", [](Config& c, std::string_view v) { return set_count<&Config::batch_max_entries>(c, v, 1, 1000000); },
        "A batch is sent when it holds this many entries..."},
    Var{"LOGFERRY_BATCH_MAX_BYTES", "512KiB", [](Config& c, std::string_view v) { return set_size<&Config::batch_max_bytes>(c, v, 1024); },
        "...or this many bytes of encoded entries..."},
    Var{"LOGFERRY_BATCH_TIMEOUT", "200ms", set_duration<&Config::batch_timeout>,
        "...or when its first entry has waited this long."},
    Var{"LOGFERRY_BUFFER_MAX_BYTES", "4MiB", [](Config& c, std::string_view v) { return set_size<&Config::buffer_max_bytes>(c, v, 4096); },
        "Cap on encoded batches held in memory (sent but not acknowledged, or waiting). When full, "
        "file reading pauses: the files themselves are the buffer."},
    Var{"LOGFERRY_MAX_IN_FLIGHT", "8", [](Config& c, std::string_view v) { return set_count<&Config::max_in_flight>(c, v, 1, 1024); },
        "Batches sent and not yet acknowledged, at most."},
    Var{"LOGFERRY_BACKOFF_INITIAL", "200ms", set_duration<&Config::backoff_initial>,
        "First reconnect delay; it doubles per failure up to LOGFERRY_BACKOFF_MAX, with full jitter."},
    Var{"LOGFERRY_BACKOFF_MAX", "30s", set_duration<&Config::backoff_max>, "Largest reconnect delay."},
    Var{"LOGFERRY_CONNECT_TIMEOUT", "5s", set_duration<&Config::connect_timeout>,
        "Deadline for connecting and the handshake."},
    Var{"LOGFERRY_ACK_TIMEOUT", "30s", set_duration<&Config::ack_timeout>,
        "A connection whose oldest batch waits this long for its ack is closed and the batches re-sent."},
    Var{"LOGFERRY_COMPRESS", "false", set_bool<&Config::compress>,
        "Offer zstd compression of batches in the handshake. Off by default: zstd costs about two thirds "
        "of the sidecar's CPU per plain line (see the benchmark) and in-cluster bandwidth is cheaper than "
        "CPU in every Pod; turn it on for outputs across zones or sites (about 4.6x fewer bytes)."},
    Var{"LOGFERRY_AUTH_TOKEN", "", set_string<&Config::auth_token>,
        "Token sent in the handshake when the aggregator requires one.", Secret::yes},
    Var{"LOGFERRY_AUTH_TOKEN_FILE", "", set_string<&Config::auth_token_file>,
        "File holding the token (a mounted Secret); re-read on every connection, so rotation works."},
    Var{"LOGFERRY_TLS_CA", "", set_string<&Config::tls_ca>, "PEM file of CAs trusted for tls:// outputs."},
    Var{"LOGFERRY_TLS_CERT", "", set_string<&Config::tls_cert>, "PEM client certificate for mutual TLS."},
    Var{"LOGFERRY_TLS_KEY", "", set_string<&Config::tls_key>, "PEM private key of LOGFERRY_TLS_CERT."},
    Var{"LOGFERRY_TLS_SERVER_NAME", "", set_string<&Config::tls_server_name>,
        "Name the server certificate must carry; default: the output's host."},
    Var{"LOGFERRY_OTLP_HEADERS", "",
        [](Config& c, std::string_view v) {
          auto l = parse_labels(v);
          if (!l) return std::string("expected comma-separated Name=value pairs, e.g. Authorization=Bearer abc");
          c.http_headers = std::move(*l);
          return std::string();
        },
        "Extra HTTP headers for otlp+http(s) and loki+http(s) outputs: Name=value,Name2=value2 "
        "(e.g. an API key).", Secret::yes},
    Var{"LOGFERRY_OTLP_COMPRESSION", "none", set_enum<&Config::otlp_gzip, kOtlpCompressionChoices>,
        "Body compression of OTLP requests: none or gzip."},
    Var{"LOGFERRY_LOKI_TENANT", "", set_string<&Config::loki_tenant>,
        "Loki tenant, sent as X-Scope-OrgID; unset: no header (single-tenant Loki)."},
    Var{"LOGFERRY_LOKI_LABELS", "namespace,pod,container,filename",
        [](Config& c, std::string_view v) {
          c.loki_labels = split_list(v);
          for (const auto& item : c.loki_labels) {
            const std::string name = item.substr(0, item.find('='));
            bool ok = !name.empty() && !name.starts_with("__") && !(name[0] >= '0' && name[0] <= '9');
            for (const char ch : name)
              ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_');
            if (!ok || (item.find('=') != std::string::npos && item.find('=') + 1 == item.size()))
              return fmt::format("\"{}\" is not a label: expected names matching [a-zA-Z_][a-zA-Z0-9_]* such as "
                                 "namespace,pod,container,node,filename,service_name, or NAME=RESOURCE_KEY",
                                 item);
          }
          return std::string();
        },
        "Loki stream labels (keep the set small): namespace, pod, container, node (from the Downward API), "
        "filename (the source file's name), service_name, any LOGFERRY_LABELS key, or NAME=RESOURCE_KEY."},
    Var{"LOGFERRY_LOKI_STRUCTURED_METADATA", "false", set_bool<&Config::loki_structured_metadata>,
        "true: attributes, level and trace/span ids go into Loki structured metadata (Loki 3); false: they are "
        "appended to the line as logfmt."},
    Var{"LOGFERRY_SERVICE_NAME", "", set_string<&Config::service_name>,
        "service.name of the OTLP resource (and Loki's service_name label); default: a service.name label, "
        "else the container name."},
    Var{"LOGFERRY_SHUTDOWN_TIMEOUT", "25s", set_duration<&Config::shutdown_timeout>,
        "On SIGTERM: read to the end, flush and wait for acks at most this long (keep it below the Pod's "
        "terminationGracePeriodSeconds)."},
    Var{"LOGFERRY_DRAIN_QUIET", "1s", set_duration<&Config::drain_quiet>,
        "On SIGTERM: keep reading each file until it had no new data for this long (lines the app writes "
        "while it stops are still sent), bounded by LOGFERRY_SHUTDOWN_TIMEOUT."},
    Var{"LOGFERRY_HTTP_ADDR", "", set_string<&Config::http_addr>,
        "HOST:PORT for /healthz, /readyz and /metrics; unset: no HTTP endpoint."},
    Var{"LOGFERRY_LOG_LEVEL", "info", set_enum<&Config::log_level, kLogLevelChoices>,
        "Threshold of logferry's own log lines (on stderr)."},
    Var{"LOGFERRY_LOG_FORMAT", "json", set_enum<&Config::log_format, kLogFormatChoices>,
        "Format of logferry's own log lines on stderr."},
};

// Checks that dir exists (or can be created) and that a file can be written in it.
std::string check_writable_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fmt::format("cannot create the directory: {}", ec.message());
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return "not a directory";
  if (::access(dir.c_str(), R_OK | W_OK | X_OK) != 0) {
    return fmt::format("the directory must be readable and writable: {}", std::strerror(errno));
  }
  return {};
}

}  // namespace

std::span<const EnvVar<Config>> config_table() { return kTable; }

std::optional<std::vector<Endpoint>> parse_outputs(std::string_view text) {
  std::vector<Endpoint> out;
  for (const auto& item : split_list(text, ',')) {
    const size_t sep = item.find("://");
    if (sep == std::string::npos) return std::nullopt;
    Endpoint ep;
    ep.text = item;
    ep.scheme = item.substr(0, sep);
    std::string_view rest = std::string_view(item).substr(sep + 3);
    if (ep.scheme == "stdout") {
      if (!rest.empty()) return std::nullopt;
      out.push_back(std::move(ep));
      continue;
    }
    const bool http = ep.scheme == "otlp+http" || ep.scheme == "otlp+https" || ep.scheme == "loki+http" ||
                      ep.scheme == "loki+https";
    if (ep.scheme != "tcp" && ep.scheme != "tls" && !http) return std::nullopt;
    if (http) {
      const size_t slash = rest.find('/');
      if (slash != std::string_view::npos) {
        ep.path = std::string(rest.substr(slash));
        rest = rest.substr(0, slash);
      }
      const bool bracketed = rest.starts_with('[');
      const bool has_port = bracketed ? rest.find("]:") != std::string_view::npos : rest.find(':') != std::string_view::npos;
      if (!has_port) {  // default port: 4318 (OTLP), 3100 (Loki), 443 (https)
        if (bracketed && !rest.ends_with(']')) return std::nullopt;
        ep.host = std::string(bracketed ? rest.substr(1, rest.size() - 2) : rest);
        ep.port = ep.scheme.ends_with("https") ? 443 : ep.scheme.starts_with("otlp") ? 4318 : 3100;
        if (ep.host.empty()) return std::nullopt;
        out.push_back(std::move(ep));
        continue;
      }
    }
    const auto hp = parse_host_port(rest);
    if (!hp || hp->second == 0) return std::nullopt;
    ep.host = hp->first;
    ep.port = hp->second;
    out.push_back(std::move(ep));
  }
  if (out.empty()) return std::nullopt;
  // One kind per configuration: failover between different protocols makes no sense.
  const auto kind = [](const std::string& scheme) { return scheme.substr(0, scheme.find('+')); };
  for (const auto& ep : out) {
    const bool native = ep.scheme == "tcp" || ep.scheme == "tls";
    const bool first_native = out[0].scheme == "tcp" || out[0].scheme == "tls";
    if (native != first_native || (!native && kind(ep.scheme) != kind(out[0].scheme))) return std::nullopt;
  }
  return out;
}

Labels Config::resource_labels() const {
  Labels out;
  if (!pod_name.empty()) out.emplace_back("k8s.pod.name", pod_name);
  if (!pod_namespace.empty()) out.emplace_back("k8s.namespace.name", pod_namespace);
  if (!node_name.empty()) out.emplace_back("k8s.node.name", node_name);
  if (!container_name.empty()) out.emplace_back("k8s.container.name", container_name);
  for (const auto& kv : labels) out.push_back(kv);
  return out;
}

ConfigResult load_config(const Environment& env) {
  ConfigResult r;
  static constexpr std::array<std::string_view, 1> kForeign{"LOGFERRY_AGGREGATOR_"};
  r.errors = apply_environment<Config>(config_table(), env, r.config, "LOGFERRY_", kForeign);
  auto has_error = [&](std::string_view name) {
    for (const auto& e : r.errors)
      if (e.variable == name) return true;
    return false;
  };
  Config& c = r.config;
  if (c.mode == Mode::node) {
    // A node agent's defaults: the kubelet's container logs, in CRI format.
    if (!env.contains("LOGFERRY_FILES")) {
      c.files = {std::string(kNodeLogGlob)};
      r.implied.push_back({"LOGFERRY_FILES", std::string(kNodeLogGlob), "LOGFERRY_MODE=node"});
    }
    if (!env.contains("LOGFERRY_PARSER")) {
      c.parser = "cri";
      r.implied.push_back({"LOGFERRY_PARSER", "cri", "LOGFERRY_MODE=node"});
    }
  }
  if (c.outputs.empty() && !has_error("LOGFERRY_OUTPUT")) {
    r.errors.push_back({"LOGFERRY_OUTPUT", env_error_text("LOGFERRY_OUTPUT", "", "required: expected tcp://HOST:PORT")});
  }
  if (c.files.empty() && c.pipe.empty() && !c.read_stdin && !has_error("LOGFERRY_FILES") &&
      !has_error("LOGFERRY_PIPE") && !has_error("LOGFERRY_STDIN")) {
    r.errors.push_back({"LOGFERRY_FILES",
                        env_error_text("LOGFERRY_FILES", "",
                                       "no source configured: set LOGFERRY_FILES (globs), LOGFERRY_PIPE or "
                                       "LOGFERRY_STDIN=true")});
  }
  if (!c.pipe.empty()) {
    struct stat st {};
    if (::stat(c.pipe.c_str(), &st) == 0 && !S_ISFIFO(st.st_mode)) {
      r.errors.push_back({"LOGFERRY_PIPE", env_error_text("LOGFERRY_PIPE", c.pipe, "exists and is not a named pipe")});
    }
    if (c.spill_dir.empty()) c.spill_dir = (std::filesystem::path(c.checkpoint_dir) / "pipe-spill").string();
    if (c.spill_max_bytes > 0 && !has_error("LOGFERRY_SPILL_DIR") && !has_error("LOGFERRY_CHECKPOINT_DIR")) {
      if (auto why = check_writable_dir(c.spill_dir); !why.empty()) {
        r.errors.push_back({"LOGFERRY_SPILL_DIR", env_error_text("LOGFERRY_SPILL_DIR", c.spill_dir, why)});
      }
    }
  }
  if (!has_error("LOGFERRY_CHECKPOINT_DIR")) {
    if (auto why = check_writable_dir(c.checkpoint_dir); !why.empty()) {
      r.errors.push_back({"LOGFERRY_CHECKPOINT_DIR", env_error_text("LOGFERRY_CHECKPOINT_DIR", c.checkpoint_dir, why)});
    }
  }
  if (c.buffer_max_bytes < 2 * c.batch_max_bytes && !has_error("LOGFERRY_BUFFER_MAX_BYTES")) {
    r.errors.push_back({"LOGFERRY_BUFFER_MAX_BYTES",
                        env_error_text("LOGFERRY_BUFFER_MAX_BYTES", format_size(c.buffer_max_bytes),
                                       fmt::format("must be at least twice LOGFERRY_BATCH_MAX_BYTES ({})",
                                                   format_size(c.batch_max_bytes)))});
  }
  if (c.backoff_max < c.backoff_initial && !has_error("LOGFERRY_BACKOFF_MAX")) {
    r.errors.push_back({"LOGFERRY_BACKOFF_MAX",
                        env_error_text("LOGFERRY_BACKOFF_MAX", format_duration(c.backoff_max),
                                       "must not be shorter than LOGFERRY_BACKOFF_INITIAL")});
  }
  if ((c.tls_cert.empty() != c.tls_key.empty()) && !has_error("LOGFERRY_TLS_KEY")) {
    r.errors.push_back({"LOGFERRY_TLS_KEY", env_error_text("LOGFERRY_TLS_KEY", c.tls_key.empty() ? "" : "<set>",
                                                           "LOGFERRY_TLS_CERT and LOGFERRY_TLS_KEY go together")});
  }
  for (auto& e : check_parse_config(c)) {
    if (!has_error(e.variable)) r.errors.push_back(std::move(e));
  }
  return r;
}

}  // namespace logferry
