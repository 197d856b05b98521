// Checks examples/kubernetes/*.yaml: every logferry container's environment is
// accepted by the real binary's --check-config, and the operational settings
// (Downward API, probes, resources, locked-down securityContext) are present.
// The YAML is read by a minimal extractor for the `containers:` /
// `initContainers:` lists and their `env:` name/value pairs, which relies on the
// examples' plain block style (two-space indents, one key per line); no YAML
// library is needed in CI.
#include <catch2/catch.hpp>

#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "sidecar/config/config.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace logferry::test;
namespace fs = std::filesystem;

namespace {

struct EnvEntry {
  std::string name;
  std::optional<std::string> value;  // nullopt: valueFrom (Downward API, Secret)
  std::string value_from;            // the valueFrom block's text
};

struct ContainerSpec {
  std::string name;
  std::string image;
  bool init = false;
  std::vector<EnvEntry> env;
  std::string text;  // the container's whole block
};

size_t indent_of(const std::string& line) { return line.find_first_not_of(' '); }

bool blank(const std::string& line) {
  const size_t i = line.find_first_not_of(' ');
  return i == std::string::npos || line[i] == '#';
}

// "key: value  # comment" -> value, unquoted.
std::string scalar_after(const std::string& line, std::string_view key) {
  std::string v = line.substr(line.find(key) + key.size());
  while (!v.empty() && v.front() == ' ') v.erase(0, 1);
  if (!v.empty() && (v.front() == '"' || v.front() == '\'')) {
    const size_t end = v.find(v.front(), 1);
    return v.substr(1, end - 1);
  }
  if (const size_t c = v.find(" #"); c != std::string::npos) v.resize(c);
  while (!v.empty() && v.back() == ' ') v.pop_back();
  return v;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::vector<EnvEntry> parse_env(const std::vector<std::string>& block) {
  std::vector<EnvEntry> env;
  size_t env_indent = std::string::npos;
  for (const auto& line : block) {
    if (blank(line)) continue;
    const size_t ind = indent_of(line);
    if (env_indent == std::string::npos) {
      if (line.substr(ind) == "env:") env_indent = ind;
      continue;
    }
    if (ind <= env_indent) break;
    const std::string rest = line.substr(ind);
    if (ind == env_indent + 2 && rest.starts_with("- name:")) {
      env.push_back({scalar_after(rest, "- name:"), std::nullopt, {}});
    } else if (!env.empty() && rest.starts_with("value:") && ind == env_indent + 4) {
      env.back().value = scalar_after(rest, "value:");
    } else if (!env.empty()) {
      env.back().value_from += rest + "\n";
    }
  }
  return env;
}

// Every item of every containers:/initContainers: list in a manifest.
std::vector<ContainerSpec> parse_containers(const std::string& text) {
  std::vector<ContainerSpec> out;
  const auto lines = lines_of(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (blank(l)) continue;
    const size_t list_indent = indent_of(l);
    const std::string key = l.substr(list_indent);
    if (key != "containers:" && key != "initContainers:") continue;
    std::vector<std::string> item;
    auto flush = [&] {
      if (item.empty()) return;
      ContainerSpec c;
      c.init = key == "initContainers:";
      c.name = scalar_after(item.front(), "- name:");
      for (const auto& il : item) {
        c.text += il + "\n";
        if (c.image.empty() && il.find(" image:") != std::string::npos) c.image = scalar_after(il, "image:");
      }
      c.env = parse_env(item);
      out.push_back(std::move(c));
      item.clear();
    };
    size_t j = i + 1;
    for (; j < lines.size(); ++j) {
      const std::string& cl = lines[j];
      if (blank(cl)) continue;
      const size_t ind = indent_of(cl);
      if (ind <= list_indent && !(ind == list_indent && cl[ind] == '-')) break;
      if (ind == list_indent + 2 && cl.compare(ind, 2, "- ") == 0) flush();
      item.push_back(cl);
    }
    flush();
    i = j - 1;
  }
  return out;
}

const EnvEntry* find_env(const ContainerSpec& c, std::string_view name) {
  for (const auto& e : c.env)
    if (e.name == name) return &e;
  return nullptr;
}

bool contains(const std::string& text, std::string_view what) { return text.find(what) != std::string::npos; }

// The environment the binary would see, with absolute paths moved under `root`
// (as if the volumes were mounted there) and Downward API values filled in.
ProcessEnv container_env(const ContainerSpec& c, const TempDir& root) {
  ProcessEnv env;
  for (const auto& e : c.env) {
    if (!e.value) {
      env[e.name] = e.name == "POD_NAME" ? "test-pod" : e.name == "NODE_NAME" ? "test-node" : "test-namespace";
      continue;
    }
    std::string v = *e.value;
    if (v.starts_with("/")) {
      std::string moved;
      for (const auto& item : logferry::split_list(v)) {
        if (!moved.empty()) moved += ',';
        moved += (root / item.substr(1)).string();
      }
      v = moved;
      if (e.name.ends_with("_FILE")) root.write_file(e.value->substr(1), "placeholder-token\n");
    }
    env[e.name] = v;
  }
  return env;
}

void check_locked_down(const ContainerSpec& c) {
  INFO("container " << c.name);
  CHECK(contains(c.text, "runAsNonRoot: true"));
  CHECK(contains(c.text, "runAsUser: 65532"));
  CHECK(contains(c.text, "readOnlyRootFilesystem: true"));
  CHECK(contains(c.text, "allowPrivilegeEscalation: false"));
  CHECK(contains(c.text, "drop: [\"ALL\"]"));
  CHECK(contains(c.text, "resources:"));
  CHECK(contains(c.text, "requests:"));
  CHECK(contains(c.text, "limits:"));
  for (const char* name : {"POD_NAME", "POD_NAMESPACE", "NODE_NAME"}) {
    INFO(name);
    const EnvEntry* e = find_env(c, name);
    REQUIRE(e != nullptr);
    CHECK_FALSE(e->value.has_value());
    CHECK(contains(e->value_from, "fieldRef:"));
  }
  CHECK(contains(find_env(c, "POD_NAME")->value_from, "fieldPath: metadata.name"));
  CHECK(contains(find_env(c, "POD_NAMESPACE")->value_from, "fieldPath: metadata.namespace"));
  CHECK(contains(find_env(c, "NODE_NAME")->value_from, "fieldPath: spec.nodeName"));
}

std::string manifest(std::string_view name) {
  return read_file(fs::path(LOGFERRY_SOURCE_DIR) / "examples/kubernetes" / name);
}

bool table_has(std::string_view name) {
  for (const auto& v : logferry::config_table())
    if (v.name == name) return true;
  return false;
}

// The app containers of the examples are locked down the same way (minus the Downward API).
void check_locked_down_app(const ContainerSpec& c) {
  INFO("container " << c.name);
  CHECK(contains(c.text, "readOnlyRootFilesystem: true"));
  CHECK(contains(c.text, "allowPrivilegeEscalation: false"));
  CHECK(contains(c.text, "drop: [\"ALL\"]"));
  CHECK(contains(c.text, "resources:"));
}

void check_sidecar(const std::string& file, bool native) {
  const auto containers = parse_containers(manifest(file));
  const ContainerSpec* sidecar = nullptr;
  for (const auto& c : containers)
    if (c.name == "logferry") sidecar = &c;
  INFO(file);
  REQUIRE(sidecar != nullptr);
  CHECK(sidecar->init == native);
  if (native) CHECK(contains(sidecar->text, "restartPolicy: Always"));
  check_locked_down(*sidecar);
  for (const auto& c : containers) {
    if (c.name != "logferry") check_locked_down_app(c);
  }

  const EnvEntry* http = find_env(*sidecar, "LOGFERRY_HTTP_ADDR");
  REQUIRE(http != nullptr);
  REQUIRE(http->value);
  const std::string port = http->value->substr(http->value->rfind(':') + 1);
  CHECK(contains(sidecar->text, "containerPort: " + port));
  CHECK(contains(sidecar->text, "livenessProbe:\n"));
  CHECK(contains(sidecar->text, "path: /healthz"));
  CHECK(contains(sidecar->text, "readinessProbe:\n"));
  CHECK(contains(sidecar->text, "path: /readyz"));

  for (const auto& e : sidecar->env) {
    INFO(e.name);
    CHECK(table_has(e.name));
  }
  // Every Pod label, from a downwardAPI volume mounted where the variable points.
  const EnvEntry* labels_file = find_env(*sidecar, "LOGFERRY_POD_LABELS_FILE");
  REQUIRE(labels_file != nullptr);
  REQUIRE(labels_file->value);
  CHECK(*labels_file->value == "/etc/podinfo/labels");
  CHECK(contains(sidecar->text, "mountPath: /etc/podinfo\n"));
  const std::string text = manifest(file);
  CHECK(contains(text, "downwardAPI:\n"));
  CHECK(contains(text, "- path: labels\n"));
  CHECK(contains(text, "fieldPath: metadata.labels\n"));
  TempDir root("logferry-k8s");
  const auto r = run_process({LOGFERRY_BIN, "--check-config"}, container_env(*sidecar, root), 30s);
  INFO(r.err);
  REQUIRE(r.status);
  CHECK(r.status->code == 0);
  CHECK(contains(r.out, "\nPOD_NAME=test-pod\n"));
  CHECK(contains(r.out, "\nNODE_NAME=test-node\n"));
}

}  // namespace

TEST_CASE("kubernetes: the extractor reads containers and env lists", "[e2e][k8s]") {
  const std::string yaml =
      "spec:\n"
      "  initContainers:\n"
      "    - name: side\n"
      "      image: logferry:1  # comment\n"
      "      env:\n"
      "        - name: A\n"
      "          value: \"x # not a comment\"\n"
      "        - name: B\n"
      "          valueFrom:\n"
      "            fieldRef:\n"
      "              fieldPath: metadata.name\n"
      "      ports: []\n"
      "  containers:\n"
      "    - name: app\n"
      "      image: busybox\n"
      "  volumes: []\n";
  const auto cs = parse_containers(yaml);
  REQUIRE(cs.size() == 2);
  CHECK(cs[0].name == "side");
  CHECK(cs[0].init);
  CHECK(cs[0].image == "logferry:1");
  REQUIRE(cs[0].env.size() == 2);
  CHECK(cs[0].env[0].value == "x # not a comment");
  CHECK_FALSE(cs[0].env[1].value.has_value());
  CHECK(contains(cs[0].env[1].value_from, "fieldPath: metadata.name"));
  CHECK(cs[1].name == "app");
  CHECK_FALSE(cs[1].init);
  CHECK(cs[1].env.empty());
}

TEST_CASE("kubernetes: pod-emptydir.yaml", "[e2e][k8s]") { check_sidecar("pod-emptydir.yaml", false); }

TEST_CASE("kubernetes: pod-native-sidecar.yaml", "[e2e][k8s]") {
  CHECK(contains(manifest("pod-native-sidecar.yaml"), "kind: Job\n"));
  check_sidecar("pod-native-sidecar.yaml", true);
}

TEST_CASE("kubernetes: pod-named-pipe.yaml", "[e2e][k8s]") {
  check_sidecar("pod-named-pipe.yaml", false);
}

TEST_CASE("kubernetes: daemonset.yaml", "[e2e][k8s]") {
  const std::string text = manifest("daemonset.yaml");
  CHECK(contains(text, "kind: DaemonSet\n"));
  CHECK(contains(text, "tolerations:\n"));
  CHECK(contains(text, "type: DirectoryOrCreate\n"));
  const auto containers = parse_containers(text);
  REQUIRE(containers.size() == 1);
  const ContainerSpec& agent = containers[0];
  // Read-only node log mounts at their node paths; a writable checkpoint directory.
  CHECK(contains(agent.text, "mountPath: /var/log/containers\n              readOnly: true\n"));
  CHECK(contains(agent.text, "mountPath: /var/log/pods\n              readOnly: true\n"));
  CHECK(contains(text, "path: /var/log/containers\n"));
  CHECK(contains(text, "path: /var/log/pods\n"));
  CHECK(contains(agent.text, "readOnlyRootFilesystem: true"));
  CHECK(contains(agent.text, "allowPrivilegeEscalation: false"));
  CHECK(contains(agent.text, "drop: [\"ALL\"]"));
  CHECK_FALSE(contains(agent.text, "privileged: true"));
  CHECK_FALSE(contains(agent.text, "add:"));
  CHECK(contains(agent.text, "limits:"));
  CHECK(contains(agent.text, "requests:"));
  const EnvEntry* mode = find_env(agent, "LOGFERRY_MODE");
  REQUIRE(mode != nullptr);
  CHECK(mode->value == "node");
  const EnvEntry* node = find_env(agent, "NODE_NAME");
  REQUIRE(node != nullptr);
  CHECK(contains(node->value_from, "fieldPath: spec.nodeName"));
  // The agent's own Pod name must not label other Pods' entries.
  CHECK(find_env(agent, "POD_NAME") == nullptr);
  const EnvEntry* checkpoints = find_env(agent, "LOGFERRY_CHECKPOINT_DIR");
  REQUIRE(checkpoints != nullptr);
  REQUIRE(checkpoints->value);
  CHECK(contains(agent.text, "mountPath: " + *checkpoints->value + "\n"));

  TempDir root("logferry-k8s");
  const auto r = run_process({LOGFERRY_BIN, "--check-config"}, container_env(agent, root), 30s);
  INFO(r.err);
  REQUIRE(r.status);
  CHECK(r.status->code == 0);
  CHECK(contains(r.out, "LOGFERRY_MODE=node\n"));
  CHECK(contains(r.out, "\nNODE_NAME=test-node\n"));
  CHECK(contains(r.out, "\nLOGFERRY_PARSER=cri  (default with LOGFERRY_MODE=node)\n"));
}

TEST_CASE("kubernetes: aggregator.yaml", "[e2e][k8s]") {
  const std::string text = manifest("aggregator.yaml");
  CHECK(contains(text, "kind: Deployment\n"));
  CHECK(contains(text, "kind: Service\n"));
  CHECK(contains(text, "kind: PersistentVolumeClaim\n"));
  const auto containers = parse_containers(text);
  REQUIRE(containers.size() == 1);
  const auto& c = containers.front();
  check_locked_down(c);
  // Probed over HTTP: /readyz reports a store that cannot be written, a TCP probe would not.
  CHECK(contains(c.text, "livenessProbe:\n            httpGet:\n              path: /healthz\n              port: http\n"));
  CHECK(contains(c.text, "readinessProbe:\n            httpGet:\n              path: /readyz\n              port: http\n"));
  CHECK(contains(c.text, "- name: http\n              containerPort: 8080\n"));
  TempDir root("logferry-k8s");
  const auto r = run_process({LOGFERRY_AGGREGATOR_BIN, "--check-config"}, container_env(c, root), 30s);
  INFO(r.out << r.err);
  REQUIRE(r.status);
  CHECK(r.status->code == 0);
  CHECK(contains(r.out, "LOGFERRY_AGGREGATOR_HTTP_ADDR=0.0.0.0:8080\n"));
}

TEST_CASE("kubernetes: aggregator-statefulset.yaml (several aggregators relaying to Loki)", "[e2e][k8s]") {
  const std::string text = manifest("aggregator-statefulset.yaml");
  CHECK(contains(text, "kind: StatefulSet\n"));
  CHECK(contains(text, "clusterIP: None\n"));
  CHECK(contains(text, "volumeClaimTemplates:\n"));
  const auto containers = parse_containers(text);
  REQUIRE(containers.size() == 1);
  const auto& c = containers.front();
  check_locked_down(c);
  CHECK(contains(c.text, "readinessProbe:\n            httpGet:\n              path: /readyz\n              port: http\n"));
  TempDir root("logferry-k8s");
  const auto r = run_process({LOGFERRY_AGGREGATOR_BIN, "--check-config"}, container_env(c, root), 30s);
  INFO(r.out << r.err);
  REQUIRE(r.status);
  CHECK(r.status->code == 0);
  CHECK(contains(r.out, "LOGFERRY_AGGREGATOR_RELAY=loki+http://loki-gateway.observability:80\n"));
  CHECK(contains(r.out, "LOGFERRY_AGGREGATOR_RETENTION_MAX_BYTES=8GiB\n"));
  CHECK(contains(r.out, "LOGFERRY_AGGREGATOR_RETENTION_MAX_AGE=72h\n"));
}

TEST_CASE("kubernetes: audit/aggregator-audit.yaml", "[e2e][k8s][audit]") {
  const std::string text = manifest("audit/aggregator-audit.yaml");
  CHECK(contains(text, "kind: Deployment\n"));
  CHECK(contains(text, "kind: Service\n"));
  const auto containers = parse_containers(text);
  REQUIRE(containers.size() == 1);
  const auto& c = containers.front();
  check_locked_down_app(c);
  CHECK(contains(c.text, "runAsUser: 65532"));
  // The webhook listener requires client certificates from the API server.
  for (const char* name : {"LOGFERRY_AGGREGATOR_AUDIT_LISTEN", "LOGFERRY_AGGREGATOR_TLS_CERT",
                           "LOGFERRY_AGGREGATOR_TLS_KEY", "LOGFERRY_AGGREGATOR_TLS_CLIENT_CA"}) {
    INFO(name);
    CHECK(find_env(c, name) != nullptr);
  }
  TempDir root("logferry-k8s");
  const auto r = run_process({LOGFERRY_AGGREGATOR_BIN, "--check-config"}, container_env(c, root), 30s);
  INFO(r.out << r.err);
  REQUIRE(r.status);
  CHECK(r.status->code == 0);
  CHECK(contains(r.out, "LOGFERRY_AGGREGATOR_AUDIT_LISTEN="));
}

TEST_CASE("kubernetes: audit/audit-file-forwarder.yaml", "[e2e][k8s][audit]") {
  const std::string text = manifest("audit/audit-file-forwarder.yaml");
  const auto containers = parse_containers(text);
  REQUIRE(containers.size() == 1);
  const auto& c = containers.front();
  CHECK(c.name == "logferry");
  check_locked_down_app(c);
  const EnvEntry* parser = find_env(c, "LOGFERRY_PARSER");
  REQUIRE(parser != nullptr);
  CHECK(parser->value == "k8s-audit");
  for (const auto& e : c.env) {
    INFO(e.name);
    CHECK(table_has(e.name));
  }
  TempDir root("logferry-k8s");
  const auto r = run_process({LOGFERRY_BIN, "--check-config"}, container_env(c, root), 30s);
  INFO(r.out << r.err);
  REQUIRE(r.status);
  CHECK(r.status->code == 0);
  CHECK(contains(r.out, "LOGFERRY_PARSER=k8s-audit\n"));
}

TEST_CASE("kubernetes: secret.yaml holds placeholders only", "[e2e][k8s]") {
  const std::string text = manifest("secret.yaml");
  CHECK(contains(text, "kind: Secret\n"));
  CHECK_FALSE(contains(text, "\ndata:"));  // stringData with placeholders, never encoded values
  CHECK_FALSE(contains(text, "BEGIN"));    // no PEM material
  // Every value under stringData is a placeholder.
  bool in_data = false;
  for (const auto& l : lines_of(text)) {
    if (blank(l)) continue;
    if (indent_of(l) == 0) in_data = l == "stringData:";
    else if (in_data) CHECK(contains(l, ": REPLACE-WITH-"));
  }
  CHECK(contains(text, "token: REPLACE-WITH-A-LONG-RANDOM-TOKEN"));
}
