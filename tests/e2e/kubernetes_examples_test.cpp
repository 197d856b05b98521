// Checks examples/kubernetes/*.yaml: every logferry container's environment is
// accepted by the real binary's --check-config, and the operational settings
// (Downward API, probes, resources, locked-down securityContext) are present.
// The YAML is read by a minimal extractor for the `containers:` /
// `initContainers:` lists and their `env:` name/value pairs, which relies on the
// examples' plain block style (two-space indents, one key per line); no YAML
// library is needed in CI. The DaemonSet's RBAC documents are read the same way
// (top-level keys, `rules:` / `subjects:` lists with flow or block lists), and
// anything that extractor does not understand counts as a failure.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
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


// ---- The DaemonSet's RBAC: multi-document manifests, read strictly. ----

// The documents of a manifest, split at `---` lines.
std::vector<std::vector<std::string>> yaml_documents(const std::string& text) {
  std::vector<std::vector<std::string>> docs(1);
  for (const auto& l : lines_of(text)) {
    if (l == "---" || l.starts_with("--- ")) docs.emplace_back();
    else docs.back().push_back(l);
  }
  std::erase_if(docs, [](const auto& d) { return std::all_of(d.begin(), d.end(), blank); });
  return docs;
}

// A scalar, unquoted and without a trailing comment.
std::string yaml_scalar(std::string v) {
  while (!v.empty() && v.front() == ' ') v.erase(0, 1);
  if (!v.empty() && (v.front() == '"' || v.front() == '\'')) {
    const size_t end = v.find(v.front(), 1);
    return end == std::string::npos ? v : v.substr(1, end - 1);
  }
  if (const size_t c = v.find(" #"); c != std::string::npos) v.resize(c);
  while (!v.empty() && v.back() == ' ') v.pop_back();
  return v;
}

// "[a, "b"]  # comment" -> {a, b}; a plain scalar -> {scalar}.
std::vector<std::string> yaml_values(const std::string& raw) {
  const std::string v = yaml_scalar(raw);
  const size_t open = raw.find('[');
  if (v.empty() || open == std::string::npos || raw.find_first_not_of(' ') != open) return {v};
  const size_t close = raw.rfind(']');
  if (close == std::string::npos || close < open) return {"?unparsed: " + raw};
  std::vector<std::string> out;
  std::istringstream in(raw.substr(open + 1, close - open - 1));
  for (std::string item; std::getline(in, item, ',');) {
    if (item.find_first_not_of(' ') != std::string::npos) out.push_back(yaml_scalar(item));
  }
  return out;
}

// The `key: value` of a document's top level (indent 0), or "" when absent.
std::string yaml_top(const std::vector<std::string>& doc, std::string_view key) {
  for (const auto& l : doc) {
    if (!blank(l) && indent_of(l) == 0 && l.starts_with(std::string(key) + ":")) return yaml_scalar(l.substr(key.size() + 1));
  }
  return {};
}

std::set<std::string> yaml_top_keys(const std::vector<std::string>& doc) {
  std::set<std::string> keys;
  for (const auto& l : doc) {
    if (!blank(l) && indent_of(l) == 0) keys.insert(l.substr(0, l.find(':')));
  }
  return keys;
}

// The block under a top-level `key:`.
std::vector<std::string> yaml_block(const std::vector<std::string>& doc, std::string_view key) {
  std::vector<std::string> block;
  bool in = false;
  for (const auto& l : doc) {
    if (blank(l)) continue;
    if (indent_of(l) == 0 && l[0] != '-') {
      in = l == std::string(key) + ":";
      continue;
    }
    if (in) block.push_back(l);
  }
  return block;
}

using YamlItem = std::map<std::string, std::vector<std::string>>;

// The scalar keys of a block (metadata:, roleRef:); nested structure is reported under "?unparsed".
YamlItem yaml_map(const std::vector<std::string>& block) {
  YamlItem m;
  const size_t ind = block.empty() ? 0 : indent_of(block.front());
  std::string last;
  for (const auto& l : block) {
    const std::string rest = l.substr(indent_of(l));
    const size_t colon = rest.find(':');
    if (indent_of(l) == ind && colon != std::string::npos) {
      last = rest.substr(0, colon);
      m[last] = yaml_values(rest.substr(colon + 1));
    } else if (last != "labels" && last != "annotations") {
      m["?unparsed"].push_back(l);
    }
  }
  return m;
}

// The items of a block list (rules:, subjects:), each key with its values:
// `verbs: ["get", "list"]` and `verbs:` followed by `- get` lines alike.
std::vector<YamlItem> yaml_list(const std::vector<std::string>& block) {
  std::vector<YamlItem> items;
  if (block.empty()) return items;
  const size_t item_indent = indent_of(block.front());
  std::string key;
  for (const auto& l : block) {
    const size_t ind = indent_of(l);
    std::string rest = l.substr(ind);
    if (ind == item_indent && rest.starts_with("- ")) {
      items.emplace_back();
      rest.erase(0, 2);
    } else if (items.empty() || ind < item_indent + 2) {
      items.emplace_back()["?unparsed"].push_back(l);
      continue;
    }
    YamlItem& item = items.back();
    const size_t colon = rest.find(':');
    if (ind > item_indent + 2 && rest.starts_with("- ") && item.contains(key)) {
      auto& values = item[key];
      if (values == std::vector<std::string>{""}) values.clear();  // `key:` opened a block list
      values.push_back(yaml_scalar(rest.substr(2)));
    } else if ((ind == item_indent || ind == item_indent + 2) && colon != std::string::npos && !rest.starts_with("- ")) {
      key = rest.substr(0, colon);
      item[key] = yaml_values(rest.substr(colon + 1));
    } else {
      item["?unparsed"].push_back(l);
    }
  }
  return items;
}

std::string one(const YamlItem& m, const std::string& key) {
  const auto it = m.find(key);
  return it == m.end() || it->second.size() != 1 ? std::string("?missing") : it->second.front();
}

// Everything wrong with the RBAC of daemonset.yaml; empty when the
// ClusterRole grants exactly get/list/watch on pods, apps/replicasets and
// batch/jobs, the binding gives it to the ServiceAccount and the DaemonSet runs
// as that ServiceAccount with its token mounted.
std::vector<std::string> daemonset_rbac_problems(const std::string& text) {
  std::vector<std::string> problems;
  std::map<std::string, std::vector<std::vector<std::string>>> by_kind;
  for (auto& d : yaml_documents(text)) by_kind[yaml_top(d, "kind")].push_back(std::move(d));
  for (const auto& [kind, docs] : by_kind) {
    if (kind != "ServiceAccount" && kind != "ClusterRole" && kind != "ClusterRoleBinding" && kind != "DaemonSet") {
      problems.push_back("unexpected document of kind \"" + kind + "\"");
    } else if (docs.size() != 1) {
      problems.push_back(kind + ": " + std::to_string(docs.size()) + " documents, expected one");
    }
  }
  for (const char* kind : {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "DaemonSet"}) {
    if (!by_kind.contains(kind)) problems.push_back(std::string("no ") + kind);
  }
  if (!problems.empty()) return problems;
  const auto& sa = by_kind["ServiceAccount"].front();
  const auto& role = by_kind["ClusterRole"].front();
  const auto& binding = by_kind["ClusterRoleBinding"].front();
  const auto& ds = by_kind["DaemonSet"].front();
  const YamlItem sa_meta = yaml_map(yaml_block(sa, "metadata"));
  const YamlItem role_meta = yaml_map(yaml_block(role, "metadata"));
  const YamlItem ds_meta = yaml_map(yaml_block(ds, "metadata"));
  const std::string sa_name = one(sa_meta, "name");
  const std::string sa_namespace = one(sa_meta, "namespace");
  if (yaml_top(sa, "apiVersion") != "v1") problems.push_back("ServiceAccount: apiVersion is not v1");
  if (sa_namespace != one(ds_meta, "namespace")) problems.push_back("ServiceAccount: not in the DaemonSet's namespace");

  // The ClusterRole: rules only (no aggregationRule), and exactly the expected grants.
  if (yaml_top(role, "apiVersion") != "rbac.authorization.k8s.io/v1") problems.push_back("ClusterRole: apiVersion");
  if (yaml_top_keys(role) != std::set<std::string>{"apiVersion", "kind", "metadata", "rules"})
    problems.push_back("ClusterRole: top-level keys other than apiVersion, kind, metadata, rules");
  std::set<std::tuple<std::string, std::string, std::string>> granted;
  for (const auto& rule : yaml_list(yaml_block(role, "rules"))) {
    for (const auto& [key, values] : rule) {
      if (key != "apiGroups" && key != "resources" && key != "verbs")
        problems.push_back("ClusterRole: rule key \"" + key + "\" (only apiGroups, resources, verbs)");
    }
    const auto get = [&](const char* key) { return rule.contains(key) ? rule.at(key) : std::vector<std::string>{}; };
    for (const auto& group : get("apiGroups"))
      for (const auto& resource : get("resources"))
        for (const auto& verb : get("verbs")) granted.insert({group, resource, verb});
  }
  std::set<std::tuple<std::string, std::string, std::string>> expected;
  const std::pair<const char*, const char*> needed[] = {{"", "pods"}, {"apps", "replicasets"}, {"batch", "jobs"}};
  for (const auto& [group, resource] : needed)
    for (const char* verb : {"get", "list", "watch"}) expected.insert({group, resource, verb});
  for (const auto& [group, resource, verb] : granted) {
    if (!expected.contains({group, resource, verb}))
      problems.push_back("ClusterRole grants " + verb + " on \"" + group + "\"/" + resource);
  }
  for (const auto& [group, resource, verb] : expected) {
    if (!granted.contains({group, resource, verb}))
      problems.push_back("ClusterRole lacks " + verb + " on \"" + group + "\"/" + resource);
  }

  // The binding: that ClusterRole, to that ServiceAccount and nobody else.
  if (yaml_top(binding, "apiVersion") != "rbac.authorization.k8s.io/v1") problems.push_back("ClusterRoleBinding: apiVersion");
  const YamlItem ref = yaml_map(yaml_block(binding, "roleRef"));
  if (ref != YamlItem{{"apiGroup", {"rbac.authorization.k8s.io"}}, {"kind", {"ClusterRole"}}, {"name", {one(role_meta, "name")}}})
    problems.push_back("ClusterRoleBinding: roleRef is not the ClusterRole");
  const auto subjects = yaml_list(yaml_block(binding, "subjects"));
  if (subjects.size() != 1 ||
      subjects.front() != YamlItem{{"kind", {"ServiceAccount"}}, {"name", {sa_name}}, {"namespace", {sa_namespace}}})
    problems.push_back("ClusterRoleBinding: subjects are not exactly the ServiceAccount");

  // The DaemonSet's Pod runs as it, with the token mounted (the Pod spec's keys
  // sit at the indent of its containers: list).
  size_t pod_spec_indent = std::string::npos;
  for (const auto& l : ds) {
    if (!blank(l) && l.substr(indent_of(l)) == "containers:") pod_spec_indent = indent_of(l);
  }
  const auto pod_spec_value = [&](std::string_view key) {
    std::vector<std::string> values;
    for (const auto& l : ds) {
      if (!blank(l) && indent_of(l) == pod_spec_indent && l.substr(indent_of(l)).starts_with(std::string(key) + ":"))
        values.push_back(yaml_scalar(l.substr(pod_spec_indent + key.size() + 1)));
    }
    return values;
  };
  if (pod_spec_value("serviceAccountName") != std::vector<std::string>{sa_name})
    problems.push_back("DaemonSet: serviceAccountName is not the ServiceAccount");
  if (pod_spec_value("automountServiceAccountToken") != std::vector<std::string>{"true"})
    problems.push_back("DaemonSet: automountServiceAccountToken is not true");
  return problems;
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

  // Pod metadata from the API server: RBAC, its ServiceAccount and token, and
  // the Loki label by Pod label shown in a comment.
  for (const auto& problem : daemonset_rbac_problems(text)) FAIL_CHECK(problem);
  CHECK(contains(text, "app=k8s.pod.label.app"));

  TempDir root("logferry-k8s");
  const auto r = run_process({LOGFERRY_BIN, "--check-config"}, container_env(agent, root), 30s);
  INFO(r.err);
  REQUIRE(r.status);
  CHECK(r.status->code == 0);
  CHECK(contains(r.out, "LOGFERRY_MODE=node\n"));
  CHECK(contains(r.out, "\nNODE_NAME=test-node\n"));
  CHECK(contains(r.out, "\nLOGFERRY_PARSER=cri  (default with LOGFERRY_MODE=node)\n"));
}

TEST_CASE("kubernetes: the RBAC check of daemonset.yaml rejects more or less than it needs", "[e2e][k8s]") {
  const std::string text = manifest("daemonset.yaml");
  REQUIRE(daemonset_rbac_problems(text).empty());
  const auto changed = [&](std::string_view from, std::string_view to) {
    std::string t = text;
    const size_t at = t.find(from);
    REQUIRE(at != std::string::npos);
    t.replace(at, from.size(), to);
    return t;
  };
  const std::string verbs = "verbs: [\"get\", \"list\", \"watch\"]";
  const std::vector<std::pair<std::string, std::string>> mutations{
      {"another verb", changed(verbs, "verbs: [\"get\", \"list\", \"watch\", \"delete\"]")},
      {"a wildcard verb", changed(verbs, "verbs: [\"*\"]")},
      {"a missing verb", changed(verbs, "verbs: [\"get\", \"list\"]")},
      {"another resource", changed("resources: [\"pods\"]", "resources: [\"pods\", \"secrets\"]")},
      {"a subresource", changed("resources: [\"pods\"]", "resources: [\"pods\", \"pods/log\"]")},
      {"a wildcard group", changed("apiGroups: [\"apps\"]", "apiGroups: [\"*\"]")},
      {"a missing rule", changed("  - apiGroups: [\"batch\"]\n    resources: [\"jobs\"]\n    " + verbs + "\n", "")},
      {"resourceNames", changed("    resources: [\"pods\"]\n", "    resources: [\"pods\"]\n    resourceNames: [\"x\"]\n")},
      {"an aggregationRule", changed("rules:\n", "aggregationRule:\n  clusterRoleSelectors: []\nrules:\n")},
      {"a second ClusterRole", text + "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"},
      {"a Role", text + "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n"},
      {"another subject", changed("    namespace: logging\n---", "    namespace: logging\n  - kind: Group\n    name: system:authenticated\n---")},
      {"another role bound", changed("  kind: ClusterRole\n  name: logferry-node", "  kind: ClusterRole\n  name: cluster-admin")},
      {"another ServiceAccount", changed("      serviceAccountName: logferry-node", "      serviceAccountName: default")},
      {"no token", changed("      automountServiceAccountToken: true", "      automountServiceAccountToken: false")},
  };
  for (const auto& [what, t] : mutations) {
    INFO(what);
    CHECK_FALSE(daemonset_rbac_problems(t).empty());
  }
  // Block lists read the same as flow lists.
  std::string block = text;
  for (const char* group : {"\"\"", "\"apps\"", "\"batch\""}) {
    const std::string from = std::string("apiGroups: [") + group + "]";
    block.replace(block.find(from), from.size(), std::string("apiGroups:\n      - ") + group);
  }
  CHECK(daemonset_rbac_problems(block).empty());
  CHECK_FALSE(daemonset_rbac_problems(changed(verbs, "verbs:\n      - get\n      - list\n      - watch\n      - patch")).empty());
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
