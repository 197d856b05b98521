// The sidecar's environment variables: one table, in --help order, joined
// from parts; the parts other programs reuse are exposed on their own
// (output_table(), batch_table(), identity_table(), log_table()).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sidecar/config/config.hpp"
#include "sidecar/config/member_setters.hpp"

namespace logferry {
namespace {

using Var = EnvVar<Config>;

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

// The parts other programs reuse (see config.hpp) and the sidecar's own
// variables, joined in --help order into kTable below.

// Where batches go (first in --help, with the sources).
const std::array kOutputTargetVars{
    EnvVar<OutputOptions>{"LOGFERRY_OUTPUT", "",
        [](OutputOptions& c, std::string_view v) {
          if (redact_urls(v).find("***@") != std::string::npos)
            return std::string("credentials in the URL are not supported (they would be logged): use "
                               "LOGFERRY_OTLP_HEADERS or LOGFERRY_AUTH_TOKEN_FILE");
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
        "port replaces the default one. Several comma-separated addresses of one kind fail over in order. Required.",
        Secret::url},
};

// How batches are delivered, after the parse and batch variables in --help.
const std::array kDeliveryVars{
    EnvVar<OutputOptions>{"LOGFERRY_BUFFER_MAX_BYTES", "4MiB", [](OutputOptions& c, std::string_view v) { return set_size<&OutputOptions::buffer_max_bytes>(c, v, 4096); },
        "Cap on encoded batches held in memory (sent but not acknowledged, or waiting). When full, "
        "file reading pauses: the files themselves are the buffer."},
    EnvVar<OutputOptions>{"LOGFERRY_MAX_IN_FLIGHT", "8", [](OutputOptions& c, std::string_view v) { return set_count<&OutputOptions::max_in_flight>(c, v, 1, 1024); },
        "Batches sent and not yet acknowledged, at most."},
    EnvVar<OutputOptions>{"LOGFERRY_BACKOFF_INITIAL", "200ms", set_duration<&OutputOptions::backoff_initial, ZeroDuration::allowed>,
        "First reconnect delay; it doubles per failure up to LOGFERRY_BACKOFF_MAX, with full jitter."},
    EnvVar<OutputOptions>{"LOGFERRY_BACKOFF_MAX", "30s", set_duration<&OutputOptions::backoff_max, ZeroDuration::allowed>, "Largest reconnect delay."},
    EnvVar<OutputOptions>{"LOGFERRY_CONNECT_TIMEOUT", "5s", set_duration<&OutputOptions::connect_timeout, ZeroDuration::allowed>,
        "Deadline for connecting and the handshake."},
    EnvVar<OutputOptions>{"LOGFERRY_ACK_TIMEOUT", "30s", set_duration<&OutputOptions::ack_timeout, ZeroDuration::allowed>,
        "A connection whose oldest batch waits this long for its ack is closed and the batches re-sent "
        "(0: never)."},
    EnvVar<OutputOptions>{"LOGFERRY_COMPRESS", "false", set_bool<&OutputOptions::compress>,
        "Offer zstd compression of batches in the handshake. Off by default: zstd costs about two thirds "
        "of the sidecar's CPU per plain line (see the benchmark) and in-cluster bandwidth is cheaper than "
        "CPU in every Pod; turn it on for outputs across zones or sites (about 4.6x fewer bytes)."},
    EnvVar<OutputOptions>{"LOGFERRY_AUTH_TOKEN", "", set_string<&OutputOptions::auth_token>,
        "Token sent in the handshake when the aggregator requires one.", Secret::yes},
    EnvVar<OutputOptions>{"LOGFERRY_AUTH_TOKEN_FILE", "", set_string<&OutputOptions::auth_token_file>,
        "File holding the token (a mounted Secret); re-read on every connection, so rotation works."},
    EnvVar<OutputOptions>{"LOGFERRY_TLS_CA", "", set_string<&OutputOptions::tls_ca>, "PEM file of CAs trusted for tls:// outputs."},
    EnvVar<OutputOptions>{"LOGFERRY_TLS_CERT", "", set_string<&OutputOptions::tls_cert>, "PEM client certificate for mutual TLS."},
    EnvVar<OutputOptions>{"LOGFERRY_TLS_KEY", "", set_string<&OutputOptions::tls_key>, "PEM private key of LOGFERRY_TLS_CERT."},
    EnvVar<OutputOptions>{"LOGFERRY_TLS_SERVER_NAME", "", set_string<&OutputOptions::tls_server_name>,
        "Name the server certificate must carry; default: the output's host."},
    EnvVar<OutputOptions>{"LOGFERRY_OTLP_HEADERS", "",
        [](OutputOptions& c, std::string_view v) {
          auto l = parse_labels(v);
          if (!l) return std::string("expected comma-separated Name=value pairs, e.g. Authorization=Bearer abc");
          c.http_headers = std::move(*l);
          return std::string();
        },
        "Extra HTTP headers for otlp+http(s) and loki+http(s) outputs: Name=value,Name2=value2 "
        "(e.g. an API key).", Secret::yes},
    EnvVar<OutputOptions>{"LOGFERRY_OTLP_COMPRESSION", "none", set_enum<&OutputOptions::otlp_gzip, kOtlpCompressionChoices>,
        "Body compression of OTLP requests: none or gzip."},
    EnvVar<OutputOptions>{"LOGFERRY_LOKI_TENANT", "", set_string<&OutputOptions::loki_tenant>,
        "Loki tenant, sent as X-Scope-OrgID; unset: no header (single-tenant Loki)."},
    EnvVar<OutputOptions>{"LOGFERRY_LOKI_LABELS", "namespace,pod,container,filename",
        [](OutputOptions& c, std::string_view v) {
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
    EnvVar<OutputOptions>{"LOGFERRY_LOKI_STRUCTURED_METADATA", "auto",
        [](OutputOptions& c, std::string_view v) {
          const bool automatic = v == "auto";
          const auto b = automatic ? std::optional<bool>(true) : parse_bool(v);
          if (!b) return std::string("expected auto, true or false");
          c.loki_structured_metadata = *b;
          c.loki_structured_metadata_fallback = automatic;
          return std::string();
        },
        "true: attributes, level and trace/span ids go into Loki structured metadata (Loki 3 or schema v13 with "
        "allow_structured_metadata); false: they are appended to the line as logfmt; auto: structured metadata "
        "until Loki refuses it, then logfmt for that output (logged once, counted, the refused batch re-sent)."},
    EnvVar<OutputOptions>{"LOGFERRY_SERVICE_NAME", "", set_string<&OutputOptions::service_name>,
        "service.name of the OTLP resource (and Loki's service_name label); default: a service.name label, "
        "else the container name."},
};

const auto kOutputVars = join_tables(kOutputTargetVars, kDeliveryVars);

const std::array kBatchVars{
    EnvVar<BatchPolicy>{"LOGFERRY_BATCH_MAX_ENTRIES", "4096", [](BatchPolicy& c, std::string_view v) { return set_count<&BatchPolicy::max_entries>(c, v, 1, 1000000); },
        "A batch is sent when it holds this many entries..."},
    EnvVar<BatchPolicy>{"LOGFERRY_BATCH_MAX_BYTES", "512KiB", [](BatchPolicy& c, std::string_view v) { return set_size<&BatchPolicy::max_bytes>(c, v, 1024); },
        "...or this many bytes of encoded entries..."},
    EnvVar<BatchPolicy>{"LOGFERRY_BATCH_TIMEOUT", "200ms", set_duration<&BatchPolicy::timeout, ZeroDuration::allowed>,
        "...or when its first entry has waited this long."},
};

const std::array kIdentityVars{
    EnvVar<IdentityOptions>{"LOGFERRY_LABELS", "",
        [](IdentityOptions& c, std::string_view v) {
          auto l = parse_labels(v);
          if (!l) return std::string("expected comma-separated key=value pairs, e.g. team=payments,env=prod");
          c.labels = std::move(*l);
          return std::string();
        },
        "Extra resource labels added to every batch: key=value,key2=value2."},
    EnvVar<IdentityOptions>{"POD_NAME", "", set_string<&IdentityOptions::pod_name>, "Downward API: the Pod's name (label k8s.pod.name)."},
    EnvVar<IdentityOptions>{"POD_NAMESPACE", "", set_string<&IdentityOptions::pod_namespace>,
        "Downward API: the Pod's namespace (label k8s.namespace.name)."},
    EnvVar<IdentityOptions>{"NODE_NAME", "", set_string<&IdentityOptions::node_name>, "Downward API: the node's name (label k8s.node.name)."},
    EnvVar<IdentityOptions>{"CONTAINER_NAME", "", set_string<&IdentityOptions::container_name>,
        "The app container's name (label k8s.container.name)."},
    EnvVar<IdentityOptions>{"LOGFERRY_POD_LABELS_FILE", "", set_string<&IdentityOptions::pod_labels_file>,
        "A downwardAPI volume file of the Pod's labels (fieldRef metadata.labels): each becomes the resource "
        "label k8s.pod.label.<key> on every batch; re-read when the kubelet updates it. Must be readable at start."},
    EnvVar<IdentityOptions>{"LOGFERRY_POD_ANNOTATIONS_FILE", "", set_string<&IdentityOptions::pod_annotations_file>,
        "Like LOGFERRY_POD_LABELS_FILE for metadata.annotations: resource labels k8s.pod.annotation.<key>."},
};

const std::array kLogVars{
    EnvVar<LogOptions>{"LOGFERRY_LOG_LEVEL", "info", set_enum<&LogOptions::level, kLogLevelChoices>,
        "Threshold of logferry's own log lines (on stderr)."},
    EnvVar<LogOptions>{"LOGFERRY_LOG_FORMAT", "json", set_enum<&LogOptions::format, kLogFormatChoices>,
        "Format of logferry's own log lines on stderr."},
};

const std::array kSourceVars{
    Var{"LOGFERRY_FILES", "", [](Config& c, std::string_view v) { c.files.globs = split_list(v); return std::string(); },
        "Comma-separated globs of files to tail, e.g. /var/log/app/*.log; ** matches any depth."},
    Var{"LOGFERRY_MODE", "sidecar",
        [](Config& c, std::string_view v) {
          if (v == "sidecar") c.files.mode = Mode::sidecar;
          else if (v == "node") c.files.mode = Mode::node;
          else return std::string("expected sidecar or node");
          return std::string();
        },
        "sidecar (next to one app in its Pod) or node (a DaemonSet agent): node mode reads "
        "/var/log/containers/*.log with the cri parser unless LOGFERRY_FILES / LOGFERRY_PARSER say otherwise, "
        "and labels each file's entries with the k8s.pod.name, k8s.namespace.name, k8s.container.name and "
        "container.id taken from its name (<pod>_<namespace>_<container>-<id>.log)."},
    Var{"LOGFERRY_EXCLUDE", "", [](Config& c, std::string_view v) { c.files.exclude = split_list(v); return std::string(); },
        "Comma-separated globs of files never to read, even when LOGFERRY_FILES matches them."},
    Var{"LOGFERRY_FOLLOW_SYMLINKS", "false", in_part<&Config::files, set_bool<&FileSourceOptions::follow_symlinks>>,
        "Sidecar mode: read files that are symbolic links (and their targets wherever they lead). Off by "
        "default: a link the app plants (e.g. to the sidecar's token or key) is skipped, counted in "
        "logferry_skipped_files_total{reason=\"symlink\"} and logged. Node mode ignores it (see LOGFERRY_PODS_ROOT)."},
    Var{"LOGFERRY_PODS_ROOT", "/var/log/pods", in_part<&Config::files, set_string<&FileSourceOptions::pods_root>>,
        "Node mode: a symbolic link (the kubelet's /var/log/containers/*.log) is read only when its target "
        "resolves beneath this directory; other links are skipped and counted."},
    Var{"LOGFERRY_READ_FROM", "head", in_part<&Config::files, set_enum<&FileSourceOptions::read_from, kReadFromChoices>>,
        "Where to start a file seen for the first time (no checkpoint): head or tail."},
    Var{"LOGFERRY_PIPE", "", in_part<&Config::pipe, set_string<&PipeSourceOptions::path>>,
        "Path of a named pipe (FIFO) the app writes its lines into; created if missing. logferry keeps it "
        "open for writing too, so it never sees end-of-file and several writers may come and go."},
    Var{"LOGFERRY_PIPE_MODE", "0622",
        [](Config& c, std::string_view v) {
          auto m = parse_octal_mode(v);
          if (!m) return std::string("expected an octal mode from 0600 to 0777 such as 0622 or 0660");
          c.pipe.file_mode = *m;
          return std::string();
        },
        "Permissions of a FIFO logferry creates (umask not applied). 0622: any user of the Pod's containers "
        "may write (the app may run as another user), only logferry reads; use 0660 with a shared fsGroup."},
    Var{"LOGFERRY_STDIN", "false", set_bool<&Config::read_stdin>,
        "Read lines from standard input (app | logferry); at end-of-file drain and exit 0."},
    Var{"LOGFERRY_SPILL_DIR", "",
        in_part<&Config::pipe, set_string<&PipeSourceOptions::spill_dir>>,
        "Where pipe lines go on disk while the output is slow or down (segment files, replayed in order, "
        "also after a restart). Default: the pipe-spill directory inside LOGFERRY_CHECKPOINT_DIR."},
    Var{"LOGFERRY_SPILL_MAX_BYTES", "64MiB",
        [](Config& c, std::string_view v) {
          auto n = parse_size(v);
          if (!n || (*n != 0 && *n < 64 * 1024))
            return std::string("expected 0 (no spilling) or a size of at least 64KiB such as 64MiB or 1GiB");
          c.pipe.spill_max_bytes = *n;
          return std::string();
        },
        "Cap on the pipe's spill directory; beyond it LOGFERRY_PIPE_OVERFLOW applies. 0: no spilling."},
    Var{"LOGFERRY_PIPE_OVERFLOW", "block", in_part<&Config::pipe, set_enum<&PipeSourceOptions::overflow, kPipeOverflowChoices>>,
        "When memory and spill are full: block (stop reading; the app's writes block), drop_oldest (discard "
        "the oldest spilled segment) or drop_newest (discard incoming lines). Drops are counted."},
};

const std::array kStateVars{
    Var{"LOGFERRY_CHECKPOINT_DIR", "/var/lib/logferry", set_string<&Config::checkpoint_dir>,
        "Directory for the checkpoint file (read offsets acknowledged by the output). Must be writable; "
        "put it on the shared emptyDir so it survives container restarts."},
    Var{"LOGFERRY_CHECKPOINT_INTERVAL", "1s", set_duration<&Config::checkpoint_interval, ZeroDuration::allowed>,
        "How often, at most, the checkpoint file is written and fsynced while lines are acknowledged "
        "(also on shutdown; 0: after every acknowledgement). After 1MiB acknowledged it is written "
        "sooner, without fsync, so a killed logferry re-sends at most about that much (the "
        "aggregator drops re-sent lines as duplicates)."},
};

const std::array kParseVars{
    Var{"LOGFERRY_PARSER", "plain",
        [](Config& c, std::string_view v) {
          c.parse.parser = std::string(v);  // the name is checked by load_config (ParserCatalog)
          return std::string();
        },
        "How lines become entries, for all sources: plain, json, logfmt, regex, cri, docker, nginx, apache, "
        "syslog, klog, k8s-audit or auto."},
    Var{"LOGFERRY_PARSERS", "",
        [](Config& c, std::string_view v) {
          c.parse.parser_overrides.clear();
          for (const auto& item : split_list(v, ';')) {
            const size_t eq = item.rfind('=');
            if (eq == std::string::npos || eq == 0)
              return std::string("expected GLOB=PARSER pairs separated by ';', e.g. /var/log/app/*.json=json");
            // The names are checked by load_config (ParserCatalog).
            c.parse.parser_overrides.emplace_back(item.substr(0, eq), item.substr(eq + 1));
          }
          return std::string();
        },
        "Per-source parsers: GLOB=PARSER;GLOB=PARSER (fnmatch on the file path, first match wins), "
        "e.g. /var/log/app/access.log=nginx;/var/log/app/*.json=json. Others use LOGFERRY_PARSER."},
    Var{"LOGFERRY_REGEX", "", in_part<&Config::parse, set_string<&ParseOptions::regex>>,
        "RE2 pattern of the regex parser; named groups (?P<name>...) become attributes, groups named like "
        "LOGFERRY_MESSAGE_FIELDS/TIME_FIELDS/LEVEL_FIELDS set the body, time and severity."},
    Var{"LOGFERRY_MESSAGE_FIELDS", "msg,message,log",
        [](Config& c, std::string_view v) { c.parse.message_fields = split_list(v); return std::string(); },
        "Fields of structured lines (json, logfmt, regex, klog) used as the body; the first present wins."},
    Var{"LOGFERRY_TIME_FIELDS", "time,ts,timestamp,@timestamp",
        [](Config& c, std::string_view v) { c.parse.time_fields = split_list(v); return std::string(); },
        "Fields holding the event time: RFC 3339 or epoch seconds/ms/us/ns (guessed by magnitude)."},
    Var{"LOGFERRY_LEVEL_FIELDS", "level,severity,lvl,loglevel",
        [](Config& c, std::string_view v) { c.parse.level_fields = split_list(v); return std::string(); },
        "Fields holding the level (info, WARN, E, 30, ...), mapped to the OpenTelemetry severity."},
    Var{"LOGFERRY_MULTILINE", "",
        [](Config& c, std::string_view v) {
          if (!v.empty() && v != "java" && v != "python" && v != "go")
            return std::string("expected java, python or go");
          c.parse.multiline = std::string(v);
          return std::string();
        },
        "Join stack traces into one entry with a preset: java, python or go."},
    Var{"LOGFERRY_MULTILINE_START", "", in_part<&Config::parse, set_string<&ParseOptions::multiline_start>>,
        "RE2 pattern matching the first line of a record; other lines are joined to the record before them."},
    Var{"LOGFERRY_MULTILINE_TIMEOUT", "1s", in_part<&Config::parse, set_duration<&ParseOptions::multiline_timeout, ZeroDuration::allowed>>,
        "A held record (multiline, or a partial cri/docker line) is forwarded after this long without more lines."},
    Var{"LOGFERRY_MULTILINE_MAX_LINES", "500",
        [](Config& c, std::string_view v) { return set_count<&ParseOptions::multiline_max_lines>(c.parse, v, 1, 100000); },
        "A record is cut after this many lines (the rest starts a new entry)."},
    Var{"LOGFERRY_MULTILINE_MAX_BYTES", "256KiB",
        [](Config& c, std::string_view v) { return set_size<&ParseOptions::multiline_max_bytes>(c.parse, v, 1024); },
        "A record is cut before it grows beyond this size (the rest starts a new entry)."},
    Var{"LOGFERRY_DROP", "", in_part<&Config::parse, set_string<&ParseOptions::drop>>,
        "RE2 pattern: lines matching it are dropped before parsing (and counted)."},
    Var{"LOGFERRY_MIN_SEVERITY", "",
        [](Config& c, std::string_view v) {
          c.parse.min_severity = v.empty() ? 0 : parse_min_severity(v);
          if (c.parse.min_severity == 0 && !v.empty()) return std::string("expected trace, debug, info, warn, error, fatal or 1 to 24");
          return std::string();
        },
        "Entries with a known severity below this are dropped (entries without a level are kept)."},
};

const std::array kReadVars{
    Var{"LOGFERRY_MAX_LINE_BYTES", "256KiB",
        [](Config& c, std::string_view v) {
          std::string why = set_size<&ReadOptions::max_line_bytes>(c.read, v, 64);
          c.parse.max_line_bytes = c.read.max_line_bytes;  // cri/docker partial lines are joined up to it
          return why;
        },
        "Longer lines are cut to this size, forwarded with attribute log.truncated=true and counted."},
    Var{"LOGFERRY_PARTIAL_FLUSH", "5s", in_part<&Config::read, set_duration<&ReadOptions::partial_flush, ZeroDuration::allowed>>,
        "A last line without a newline is forwarded after this long without more bytes."},
    Var{"LOGFERRY_ROTATE_WAIT", "10s", in_part<&Config::files, set_duration<&FileSourceOptions::rotate_wait, ZeroDuration::allowed>>,
        "After a file is renamed away or deleted, keep reading it until it has been quiet this long."},
    Var{"LOGFERRY_POLL_INTERVAL", "1s", in_part<&Config::files, set_duration<&FileSourceOptions::poll_interval, ZeroDuration::allowed>>,
        "How often globs are re-scanned and files checked, in addition to inotify wake-ups."},
    Var{"LOGFERRY_INOTIFY", "true", in_part<&Config::files, set_bool<&FileSourceOptions::inotify>>,
        "Use inotify for prompt wake-ups; false: polling only (for file systems without inotify "
        "events, e.g. some network mounts). Polling is also the fallback when inotify fails."},
    Var{"LOGFERRY_READ_BUDGET_BYTES", "1MiB", [](Config& c, std::string_view v) { return set_size<&ReadOptions::read_budget_bytes>(c.read, v, 4096); },
        "Bytes read from one file before moving to the next (round-robin fairness)."},
    Var{"LOGFERRY_MAX_OPEN_FILES", "512", [](Config& c, std::string_view v) { return set_count<&FileSourceOptions::max_open_files>(c.files, v, 1, 65536); },
        "Most files held open at once; further files wait their turn."},
};

const std::array kLifecycleVars{
    Var{"LOGFERRY_SHUTDOWN_TIMEOUT", "25s", set_duration<&Config::shutdown_timeout, ZeroDuration::allowed>,
        "On SIGTERM: read to the end, flush and wait for acks at most this long (keep it below the Pod's "
        "terminationGracePeriodSeconds)."},
    Var{"LOGFERRY_DRAIN_QUIET", "1s", in_part<&Config::files, set_duration<&FileSourceOptions::drain_quiet, ZeroDuration::allowed>>,
        "On SIGTERM: keep reading each file until it had no new data for this long (lines the app writes "
        "while it stops are still sent), bounded by LOGFERRY_SHUTDOWN_TIMEOUT."},
    Var{"LOGFERRY_HTTP_ADDR", "", set_string<&Config::http_addr>,
        "HOST:PORT for /healthz, /readyz and /metrics; unset: no HTTP endpoint."},
};

// Node mode: Pod metadata from the API server (sidecar/kube).
const std::array kKubeVars{
    Var{"LOGFERRY_KUBE_API", "auto",
        [](Config& c, std::string_view v) {
          if (v != "auto" && v != "off" && !v.starts_with("https://"))
            return std::string("expected auto, off or https://HOST:PORT");
          c.kube_api = std::string(v);
          return std::string();
        },
        "Node mode: where Pod labels, annotations and workload names come from. auto: the in-cluster API "
        "server (KUBERNETES_SERVICE_HOST/_PORT) when running in a Pod, else none; off; or https://HOST:PORT. "
        "Only this node's Pods (NODE_NAME) are listed and watched; needs get/list/watch on pods, "
        "apps/replicasets and batch/jobs (examples/kubernetes/daemonset.yaml)."},
    Var{"LOGFERRY_KUBE_CA_FILE", kServiceAccountCa,
        [](Config& c, std::string_view v) { c.kube.ca_file = std::string(v); return std::string(); },
        "PEM file of the CA that signed the API server's certificate."},
    Var{"LOGFERRY_KUBE_TOKEN_FILE", kServiceAccountToken,
        [](Config& c, std::string_view v) { c.kube.token_file = std::string(v); return std::string(); },
        "Bearer token for the API server; re-read when it changes (projected tokens expire)."},
    Var{"LOGFERRY_KUBE_POD_LABELS", "*",
        [](Config& c, std::string_view v) { c.kube.label_globs = split_list(v); return std::string(); },
        "Comma-separated globs of the Pod label keys attached as k8s.pod.label.<key> (default: all)."},
    Var{"LOGFERRY_KUBE_POD_ANNOTATIONS", "",
        [](Config& c, std::string_view v) { c.kube.annotation_globs = split_list(v); return std::string(); },
        "Comma-separated globs of the Pod annotation keys attached as k8s.pod.annotation.<key> (default: "
        "none). The logferry.io/ annotations (exclude, parser, parser-<container>, multiline) are read anyway."},
    Var{"LOGFERRY_KUBE_WAIT", "2s", set_duration<&Config::kube_wait, ZeroDuration::allowed>,
        "At start-up, reading waits at most this long for the first Pod list; lines of Pods not (yet) known "
        "are sent with their file-name labels and counted (logferry_lines_without_metadata_total)."},
};

const auto kTable = join_tables(kSourceVars, lift_table<&Config::output, kOutputTargetVars>(), kStateVars,
                                lift_table<&Config::identity, kIdentityVars>(), kParseVars, kReadVars,
                                lift_table<&Config::batch, kBatchVars>(), lift_table<&Config::output, kDeliveryVars>(),
                                kKubeVars, kLifecycleVars, lift_table<&Config::log, kLogVars>());

}  // namespace

std::span<const EnvVar<Config>> config_table() { return kTable; }
std::span<const EnvVar<OutputOptions>> output_table() { return kOutputVars; }
std::span<const EnvVar<BatchPolicy>> batch_table() { return kBatchVars; }
std::span<const EnvVar<IdentityOptions>> identity_table() { return kIdentityVars; }
std::span<const EnvVar<LogOptions>> log_table() { return kLogVars; }

}  // namespace logferry
