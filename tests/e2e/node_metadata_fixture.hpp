#pragma once
// The node agent against a fake API server (tests/support/fake_api_server) and
// a fake kubelet layout, sending to an OTLP receiver whose resource attributes
// show what each line was labelled with. Shared by node_metadata_test.cpp and
// node_metadata_memory_test.cpp.
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "support/certs.hpp"
#include "support/fake_api_server.hpp"
#include "support/http_client.hpp"
#include "support/logferry_processes.hpp"
#include "support/otlp_logs_receiver.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace logferry::test {

namespace fs = std::filesystem;

inline constexpr std::string_view kToken = "node-agent-token";

// One container's log in the kubelet's layout, with its /var/log/containers link.
struct KubeletLog {
  fs::path file;
  KubeletLog(const fs::path& root, const std::string& ns, const std::string& pod, const std::string& uid,
             const std::string& container) {
    const fs::path dir = root / "pods" / fmt::format("{}_{}_{}", ns, pod, uid) / container;
    fs::create_directories(dir);
    fs::create_directories(root / "containers");
    file = dir / "0.log";
    std::ofstream(file).flush();
    fs::create_symlink(file, root / "containers" / fmt::format("{}_{}_{}-{:064x}.log", pod, ns, container, 0xabcu));
  }
  // Appends CRI lines with these bodies.
  void write(const std::vector<std::string>& bodies) const {
    std::ofstream out(file, std::ios::app | std::ios::binary);
    for (const auto& b : bodies) out << "2026-01-02T15:04:05.000000000Z stdout F " << b << "\n";
  }
};

struct Node {
  TempDir tmp{"logferry-node-meta"};
  TestCerts certs = make_test_certs(tmp / "certs");
  FakeApiServer api{certs};
  OtlpLogsReceiver otlp;
  fs::path token = tmp.write_file("token", std::string(kToken) + "\n");
  uint16_t http = free_port();

  Node() { api.set_token(std::string(kToken)); }

  Sidecar agent(ProcessEnv extra = {}) {
    ProcessEnv env{{"LOGFERRY_MODE", "node"},
                   {"LOGFERRY_FILES", (tmp / "containers/*.log").string()},
                   {"LOGFERRY_PODS_ROOT", (tmp / "pods").string()},
                   {"LOGFERRY_CHECKPOINT_DIR", (tmp / "state").string()},
                   {"LOGFERRY_OUTPUT", fmt::format("otlp+http://127.0.0.1:{}", otlp.port())},
                   {"LOGFERRY_BATCH_TIMEOUT", "50ms"},
                   {"LOGFERRY_POLL_INTERVAL", "100ms"},
                   {"LOGFERRY_HTTP_ADDR", fmt::format("127.0.0.1:{}", http)},
                   {"LOGFERRY_KUBE_API", api.url()},
                   {"LOGFERRY_KUBE_CA_FILE", certs.ca.string()},
                   {"LOGFERRY_KUBE_TOKEN_FILE", token.string()},
                   {"NODE_NAME", "node-1"}};
    for (auto& [k, v] : extra) env[k] = v;
    return Sidecar(env);
  }

  // The agent, started.
  Sidecar started(ProcessEnv extra = {}) {
    Sidecar s = agent(std::move(extra));
    s.start();
    return s;
  }

  // `pod` as the API server's only Pod (resource version 100), and its container "app"'s log.
  KubeletLog only_pod(const FakeObject& pod) {
    api.set_pods({pod_json(pod)}, "100");
    return KubeletLog(tmp.path(), pod.ns, pod.name, pod.uid, "app");
  }

  long long metric(std::string_view name) const { return metrics_sample(http, name); }

  // The record with this body, or nullptr.
  std::optional<OtlpLogsReceiver::Record> record(std::string_view body) const {
    for (auto& r : otlp.records())
      if (r.body == body) return r;
    return std::nullopt;
  }
  bool received(std::string_view body) const { return record(body).has_value(); }
};

// A Deployment's Pod in namespace shop (owner: ReplicaSet web-7d9f unless `owned` is false).
inline FakeObject web_pod(bool owned = true) {
  FakeObject pod;
  pod.name = "web-7d9f-x2k4p";
  pod.ns = "shop";
  pod.uid = "0b7f6c1e-1111-4222-8333-444455556666";
  pod.labels = {{"app", "web"}, {"tier", "front"}};
  pod.annotations = {{"team.example/owner", "payments"}, {"vault.example/secret", "do-not-ship"}};
  if (owned) pod.owners = {{"ReplicaSet", "web-7d9f"}};
  return pod;
}

}  // namespace logferry::test
