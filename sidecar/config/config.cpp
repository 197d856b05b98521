#include "sidecar/config/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "sidecar/config/writable_dir.hpp"
#include "sidecar/core/json_escape.hpp"
#include "sidecar/core/unique_fd.hpp"

namespace logferry {

std::optional<std::vector<Endpoint>> parse_outputs(std::string_view text) {
  std::vector<Endpoint> out;
  for (const auto& item : split_list(text, ',')) {
    const size_t sep = item.find("://");
    if (sep == std::string::npos) return std::nullopt;
    Endpoint ep;
    ep.text = redact_urls(item);  // for messages: a query string may hold a key
    ep.scheme = item.substr(0, sep);
    std::string_view rest = std::string_view(item).substr(sep + 3);
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

Labels IdentityOptions::resource_labels() const {
  Labels out;
  if (!pod_name.empty()) out.emplace_back("k8s.pod.name", pod_name);
  if (!pod_namespace.empty()) out.emplace_back("k8s.namespace.name", pod_namespace);
  if (!node_name.empty()) out.emplace_back("k8s.node.name", node_name);
  if (!container_name.empty()) out.emplace_back("k8s.container.name", container_name);
  for (const auto& kv : labels) out.push_back(kv);
  return out;
}

std::optional<EnvError> missing_output(const OutputOptions& o) {
  if (!o.outputs.empty()) return std::nullopt;
  return EnvError{"LOGFERRY_OUTPUT", env_error_text("LOGFERRY_OUTPUT", "", "required: expected tcp://HOST:PORT")};
}

std::vector<EnvError> check_output_options(const OutputOptions& o, const BatchPolicy* batch) {
  std::vector<EnvError> errors;
  if (!o.auth_token_file.empty()) {
    // Checked at start-up so a missing Secret mount is a configuration error,
    // not an endless series of refused handshakes.
    const UniqueFd fd(::open(o.auth_token_file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    struct stat st {};
    std::string why;
    if (!fd) why = fmt::format("cannot read the token file: {}", std::strerror(errno));
    else if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) why = "the token file is not a regular file";
    if (!why.empty()) {
      errors.push_back({"LOGFERRY_AUTH_TOKEN_FILE", env_error_text("LOGFERRY_AUTH_TOKEN_FILE", o.auth_token_file, why)});
    }
  }
  if (batch != nullptr && o.buffer_max_bytes < 2 * batch->max_bytes) {
    errors.push_back({"LOGFERRY_BUFFER_MAX_BYTES",
                      env_error_text("LOGFERRY_BUFFER_MAX_BYTES", format_size(o.buffer_max_bytes),
                                     fmt::format("must be at least twice LOGFERRY_BATCH_MAX_BYTES ({})",
                                                 format_size(batch->max_bytes)))});
  }
  if (o.backoff_max < o.backoff_initial) {
    errors.push_back({"LOGFERRY_BACKOFF_MAX", env_error_text("LOGFERRY_BACKOFF_MAX", format_duration(o.backoff_max),
                                                             "must not be shorter than LOGFERRY_BACKOFF_INITIAL")});
  }
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    errors.push_back({"LOGFERRY_TLS_KEY", env_error_text("LOGFERRY_TLS_KEY", o.tls_key.empty() ? "" : "<set>",
                                                         "LOGFERRY_TLS_CERT and LOGFERRY_TLS_KEY go together")});
  }
  return errors;
}

void repair_utf8(IdentityOptions& identity, OutputOptions& output) {
  for (auto* s : {&identity.pod_name, &identity.pod_namespace, &identity.node_name, &identity.container_name,
                  &output.service_name}) {
    *s = utf8_repaired(*s);
  }
  for (auto& [k, v] : identity.labels) k = utf8_repaired(k), v = utf8_repaired(v);
}

ConfigResult load_config(const Environment& env, const ParserCatalog& parsers) {
  ConfigResult r;
  static constexpr std::array<std::string_view, 1> kForeign{"LOGFERRY_AGGREGATOR_"};
  r.errors = apply_environment<Config>(config_table(), env, r.config, "LOGFERRY_", kForeign);
  auto has_error = [&](std::string_view name) {
    for (const auto& e : r.errors)
      if (e.variable == name) return true;
    return false;
  };
  Config& c = r.config;
  // Parser names, where the table's setters would have reported them.
  if (!has_error("LOGFERRY_PARSER") && !parsers.is_name(c.parse.parser)) {
    r.errors.push_back({"LOGFERRY_PARSER", env_error_text("LOGFERRY_PARSER", c.parse.parser,
                                                          "expected one of: " + parsers.names_text())});
  }
  if (!has_error("LOGFERRY_PARSERS")) {
    for (const auto& [glob, name] : c.parse.parser_overrides) {
      if (parsers.is_name(name)) continue;
      const auto it = env.find("LOGFERRY_PARSERS");
      r.errors.push_back({"LOGFERRY_PARSERS",
                          env_error_text("LOGFERRY_PARSERS", it == env.end() ? "" : it->second,
                                         fmt::format("unknown parser \"{}\" for {}: expected one of: {}", name,
                                                     glob, parsers.names_text()))});
      break;
    }
  }
  if (c.files.mode == Mode::node) {
    // A node agent's defaults: the kubelet's container logs, in CRI format.
    if (!env.contains("LOGFERRY_FILES")) {
      c.files.globs = {std::string(kNodeLogGlob)};
      r.implied.push_back({"LOGFERRY_FILES", std::string(kNodeLogGlob), "LOGFERRY_MODE=node"});
    }
    if (!env.contains("LOGFERRY_PARSER")) {
      c.parse.parser = "cri";
      r.implied.push_back({"LOGFERRY_PARSER", "cri", "LOGFERRY_MODE=node"});
    }
  }
  if (auto e = missing_output(c.output); e && !has_error("LOGFERRY_OUTPUT")) r.errors.push_back(std::move(*e));
  c.kube.node_name = c.identity.node_name;
  if (c.files.mode == Mode::node && c.kube_api != "off" && c.identity.node_name.empty() &&
      (c.kube_api != "auto" || env.contains("KUBERNETES_SERVICE_HOST"))) {
    r.errors.push_back({"NODE_NAME", env_error_text("NODE_NAME", "",
                                                    "required in node mode with the API server (LOGFERRY_KUBE_API): "
                                                    "set it from the Downward API, fieldRef spec.nodeName")});
  }
  if (c.files.globs.empty() && c.pipe.path.empty() && !c.read_stdin && !has_error("LOGFERRY_FILES") &&
      !has_error("LOGFERRY_PIPE") && !has_error("LOGFERRY_STDIN")) {
    r.errors.push_back({"LOGFERRY_FILES",
                        env_error_text("LOGFERRY_FILES", "",
                                       "no source configured: set LOGFERRY_FILES (globs), LOGFERRY_PIPE or "
                                       "LOGFERRY_STDIN=true")});
  }
  if (!c.pipe.path.empty()) {
    struct stat st {};
    if (::lstat(c.pipe.path.c_str(), &st) == 0 && !S_ISFIFO(st.st_mode)) {
      r.errors.push_back({"LOGFERRY_PIPE", env_error_text("LOGFERRY_PIPE", c.pipe.path,
                                                          S_ISLNK(st.st_mode) ? "is a symbolic link (never followed)"
                                                                              : "exists and is not a named pipe")});
    }
    if (c.pipe.spill_dir.empty()) c.pipe.spill_dir = (std::filesystem::path(c.checkpoint_dir) / "pipe-spill").string();
    if (c.pipe.spill_max_bytes > 0 && !has_error("LOGFERRY_SPILL_DIR") && !has_error("LOGFERRY_CHECKPOINT_DIR")) {
      if (auto why = check_writable_dir(c.pipe.spill_dir); !why.empty()) {
        r.errors.push_back({"LOGFERRY_SPILL_DIR", env_error_text("LOGFERRY_SPILL_DIR", c.pipe.spill_dir, why)});
      }
    }
  }
  repair_utf8(c.identity, c.output);
  if (!has_error("LOGFERRY_CHECKPOINT_DIR")) {
    if (auto why = check_writable_dir(c.checkpoint_dir); !why.empty()) {
      r.errors.push_back({"LOGFERRY_CHECKPOINT_DIR", env_error_text("LOGFERRY_CHECKPOINT_DIR", c.checkpoint_dir, why)});
    }
  }
  for (auto& e : check_output_options(c.output, &c.batch)) {
    if (!has_error(e.variable)) r.errors.push_back(std::move(e));
  }
  for (auto& e : parsers.check(c.parse)) {
    if (!has_error(e.variable)) r.errors.push_back(std::move(e));
  }
  return r;
}

}  // namespace logferry
