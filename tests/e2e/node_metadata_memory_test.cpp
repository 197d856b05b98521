// Memory of the node agent with Pod metadata, at the kubelet's default maximum
// of 110 Pods per node with 3 containers each (issue 17): every Pod described
// by the (fake) API server with labels, annotations and an owner, every
// container's log read; the peak RSS is reported and bounded.
#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "e2e/delivery_lines_test.hpp"
#include "e2e/node_metadata_fixture.hpp"
#include "support/wait.hpp"

using namespace logferry::test;

TEST_CASE("node agent: 110 Pods with 3 containers each, with their metadata, in bounded memory", "[e2e][kube][rss]") {
  constexpr int kPods = 110;
  constexpr int kContainers = 3;
  constexpr int kLines = 20;  // per container
  Node node;
  std::vector<std::string> pods;
  std::vector<KubeletLog> logs;
  for (int p = 0; p < kPods; ++p) {
    FakeObject pod;
    pod.name = fmt::format("app-{:03}-5d8c9-x{:03}", p % 37, p);
    pod.ns = fmt::format("team-{}", p % 7);
    pod.uid = fmt::format("{:08x}-0000-4000-8000-{:012x}", p, p);
    pod.labels = {{"app", fmt::format("app-{:03}", p % 37)}, {"pod-template-hash", "5d8c9"},
                  {"app.kubernetes.io/part-of", "shop"}, {"version", "v1.2.3"}};
    pod.annotations = {{"kubectl.kubernetes.io/restartedAt", "2026-12-01T00:00:00Z"},
                       {"prometheus.io/scrape", "true"}};
    pods.push_back(pod_json(pod));
    for (int c = 0; c < kContainers; ++c) logs.emplace_back(node.tmp.path(), pod.ns, pod.name, pod.uid, fmt::format("c{}", c));
  }
  node.api.set_pods(pods, "1000");
  for (size_t i = 0; i < logs.size(); ++i) {
    std::vector<std::string> bodies;
    for (int l = 0; l < kLines; ++l) bodies.push_back(fmt::format("container {} line {}", i, l));
    logs[i].write(bodies);
  }
  const size_t expected = static_cast<size_t>(kPods * kContainers * kLines);

  // The same node without the API server: the baseline the metadata adds to.
  uint64_t baseline_kib = 0;
  {
    Sidecar agent = node.agent({{"LOGFERRY_KUBE_API", "off"}, {"LOGFERRY_CHECKPOINT_DIR", (node.tmp / "state-off").string()}});
    agent.start();
    REQUIRE(wait_until([&] { return node.otlp.distinct() >= expected; }, 60s));
    baseline_kib = proc_status_kib(agent.process().pid(), "VmHWM");
    CHECK(agent.stop() == 0);
  }
  const size_t received_before = node.otlp.count();

  Sidecar agent = node.agent({{"LOGFERRY_KUBE_POD_ANNOTATIONS", "*"}});
  agent.start();
  REQUIRE(wait_until([&] { return node.otlp.count() >= received_before + expected; }, 60s));
  CHECK(node.metric("logferry_kube_pods") == kPods);
  CHECK(node.metric("logferry_lines_without_metadata_total") == 0);
  const auto records = node.otlp.records();
  const auto last = std::find_if(records.rbegin(), records.rend(),
                                 [](const auto& r) { return r.body == "container 0 line 0"; });
  REQUIRE(last != records.rend());
  CHECK(last->resource.at("k8s.pod.label.app") == "app-000");
  const uint64_t peak_kib = proc_status_kib(agent.process().pid(), "VmHWM");
  WARN("node agent VmHWM, " << kPods << " Pods x " << kContainers << " containers: " << baseline_kib
                            << " KiB without the API server, " << peak_kib << " KiB with every Pod's metadata");
  CHECK(baseline_kib > 0);
  // The cache of 110 Pods and the API client's buffers: a few MiB at most.
  CHECK(peak_kib < baseline_kib + 8 * 1024);
  CHECK(agent.stop() == 0);
}
