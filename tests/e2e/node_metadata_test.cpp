// The node agent with Pod metadata from the API server (issue 17): a fake API
// server over HTTPS (tests/support/fake_api_server) describes this node's
// Pods; the agent reads a fake kubelet layout and sends to an OTLP receiver,
// whose resource attributes show what each line was labelled with.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "e2e/node_metadata_fixture.hpp"
#include "support/wait.hpp"

using namespace logferry::test;

TEST_CASE("node agent: Pod labels, allowed annotations and the Deployment name from the API server", "[e2e][kube]") {
  Node node;
  FakeObject rs;
  rs.name = "web-7d9f";
  rs.ns = "shop";
  rs.uid = "rs-uid";
  rs.owners = {{"Deployment", "web"}};
  node.api.set_object("/apis/apps/v1/namespaces/shop/replicasets/web-7d9f", owner_json("ReplicaSet", rs));
  const FakeObject pod = web_pod();
  node.api.set_pods({pod_json(pod)}, "100");
  const KubeletLog log(node.tmp.path(), pod.ns, pod.name, pod.uid, "app");
  log.write({"first line"});

  Sidecar agent = node.agent({{"LOGFERRY_KUBE_POD_ANNOTATIONS", "team.example/*"}});
  agent.start();
  REQUIRE(wait_until([&] { return node.received("first line"); }, 20s));
  const auto r = *node.record("first line");
  CHECK(r.resource.at("k8s.pod.name") == pod.name);
  CHECK(r.resource.at("k8s.namespace.name") == "shop");
  CHECK(r.resource.at("k8s.container.name") == "app");
  CHECK(r.resource.at("k8s.pod.uid") == pod.uid);
  CHECK(r.resource.at("k8s.pod.label.app") == "web");
  CHECK(r.resource.at("k8s.pod.label.tier") == "front");
  CHECK(r.resource.at("k8s.pod.annotation.team.example/owner") == "payments");
  CHECK_FALSE(r.resource.contains("k8s.pod.annotation.vault.example/secret"));  // not in the allow-list
  CHECK(r.resource.at("k8s.replicaset.name") == "web-7d9f");
  CHECK(r.resource.at("k8s.deployment.name") == "web");
  CHECK(node.metric("logferry_kube_pods") == 1);
  CHECK(node.metric("logferry_lines_without_metadata_total") == 0);
  CHECK(agent.stop() == 0);
}

TEST_CASE("node agent: parser and exclude annotations change while lines flow, without a restart", "[e2e][kube]") {
  Node node;
  FakeObject pod = web_pod(false);
  const KubeletLog log = node.only_pod(pod);
  Sidecar agent = node.started();
  // The node agent's default: the message inside each CRI line parsed by auto.
  log.write({R"({"msg":"parsed by auto","level":"warn"})"});
  REQUIRE(wait_until([&] { return node.received("parsed by auto"); }, 20s));

  // logferry.io/parser-<container> for this container: its messages are plain text from now on.
  const auto apply = [&](std::vector<std::pair<std::string, std::string>> annotations, int rv) {
    const long long before = node.metric("logferry_kube_watch_events_total");
    pod.annotations = std::move(annotations);
    pod.resource_version = std::to_string(rv);
    REQUIRE(wait_until([&] { return node.api.open_watches() >= 1; }, 10s));
    node.api.push_event(watch_event_json("MODIFIED", pod_json(pod)));
    REQUIRE(wait_until([&] { return node.metric("logferry_kube_watch_events_total") > before; }, 10s));
  };
  apply({{"logferry.io/parser-app", "plain"}}, 101);
  log.write({R"({"msg":"kept as text"})"});
  REQUIRE(wait_until([&] { return node.received(R"({"msg":"kept as text"})"); }, 20s));

  apply({{"logferry.io/parser-app", "plain"}, {"logferry.io/exclude", "true"}}, 102);
  log.write({R"({"msg":"excluded"})"});
  REQUIRE(wait_until([&] { return node.metric("logferry_dropped_lines_total{reason=\"excluded\"}") == 1; }, 20s));

  apply({}, 103);
  log.write({R"({"msg":"auto again"})"});
  REQUIRE(wait_until([&] { return node.received("auto again"); }, 20s));
  CHECK_FALSE(node.received("excluded"));
  CHECK(agent.stop() == 0);
}

TEST_CASE("node agent: lines flow while the API server is down, and gain metadata once it answers", "[e2e][kube]") {
  Node node;
  const FakeObject pod = web_pod();
  node.api.set_pods({pod_json(pod)}, "100");
  node.api.set_token("another-token");  // 401 until the token file is rotated
  const KubeletLog log(node.tmp.path(), pod.ns, pod.name, pod.uid, "app");
  log.write({"before the API"});
  Sidecar agent = node.agent({{"LOGFERRY_KUBE_WAIT", "200ms"}});
  agent.start();
  REQUIRE(wait_until([&] { return node.received("before the API"); }, 20s));
  CHECK_FALSE(node.record("before the API")->resource.contains("k8s.pod.label.app"));
  CHECK(node.metric("logferry_lines_without_metadata_total") >= 1);
  CHECK(node.metric("logferry_kube_unauthorized_total") >= 1);

  // A projected token is rotated in place: the agent re-reads the file.
  node.tmp.write_file("token", "another-token\n");
  REQUIRE(wait_until([&] { return node.metric("logferry_kube_pods") == 1; }, 40s));
  log.write({"after the API"});
  REQUIRE(wait_until([&] { return node.received("after the API"); }, 20s));
  CHECK(node.record("after the API")->resource.at("k8s.pod.label.app") == "web");
  CHECK(agent.stop() == 0);
}

TEST_CASE("node agent: a Pod deleted while its last lines are read keeps its metadata", "[e2e][kube]") {
  Node node;
  FakeObject pod = web_pod(false);
  const KubeletLog log = node.only_pod(pod);
  Sidecar agent = node.started();
  log.write({"alive"});
  REQUIRE(wait_until([&] { return node.received("alive"); }, 20s));
  REQUIRE(wait_until([&] { return node.api.open_watches() >= 1; }, 10s));
  const long long before = node.metric("logferry_kube_watch_events_total");
  node.api.push_event(watch_event_json("DELETED", pod_json(pod)));
  REQUIRE(wait_until([&] { return node.metric("logferry_kube_watch_events_total") > before; }, 10s));
  log.write({"last words"});
  REQUIRE(wait_until([&] { return node.received("last words"); }, 20s));
  CHECK(node.record("last words")->resource.at("k8s.pod.label.app") == "web");
  CHECK(agent.stop() == 0);
}

TEST_CASE("node agent: the API server down at start, then up; a slow first list does not hold reading", "[e2e][kube]") {
  Node node;
  const FakeObject pod = web_pod();
  const KubeletLog log(node.tmp.path(), pod.ns, pod.name, pod.uid, "app");
  log.write({"while down"});
  const uint16_t api_port = free_port();
  Sidecar agent = node.agent({{"LOGFERRY_KUBE_API", fmt::format("https://127.0.0.1:{}", api_port)},
                              {"LOGFERRY_KUBE_WAIT", "300ms"}});
  agent.start();
  REQUIRE(wait_until([&] { return node.received("while down"); }, 20s));
  CHECK_FALSE(node.record("while down")->resource.contains("k8s.pod.uid"));
  REQUIRE(wait_until([&] { return node.metric("logferry_kube_api_errors_total") >= 1; }, 10s));

  // The API server comes up, answering its first list slowly: lines keep flowing meanwhile.
  FakeApiServer api(node.certs, api_port);
  api.set_token(std::string(kToken));
  api.set_pods({pod_json(pod)}, "200");
  api.set_list_delay(3s);
  REQUIRE(wait_until([&] { return api.lists() >= 1; }, 40s));
  log.write({"during the slow list"});
  REQUIRE(wait_until([&] { return node.received("during the slow list"); }, 20s));
  REQUIRE(wait_until([&] { return node.metric("logferry_kube_pods") == 1; }, 20s));
  log.write({"once listed"});
  REQUIRE(wait_until([&] { return node.received("once listed"); }, 20s));
  CHECK(node.record("once listed")->resource.at("k8s.pod.uid") == pod.uid);
  CHECK(agent.stop() == 0);
}

TEST_CASE("node agent: a bookmark, a dropped watch and 410 Gone: the agent resumes, relists and keeps up",
          "[e2e][kube]") {
  Node node;
  FakeObject pod = web_pod(false);
  const KubeletLog log = node.only_pod(pod);
  Sidecar agent = node.started();
  log.write({"one"});
  REQUIRE(wait_until([&] { return node.received("one"); }, 20s));
  CHECK(node.record("one")->resource.at("k8s.pod.label.app") == "web");

  // A bookmark moves the resource version the next watch resumes from.
  REQUIRE(wait_until([&] { return node.api.open_watches() >= 1; }, 10s));
  node.api.push_event(bookmark_event_json("555"));
  REQUIRE(wait_until([&] { return node.metric("logferry_kube_watch_events_total") >= 1; }, 10s));
  const size_t watches = node.api.watches();
  node.api.drop_watches();
  REQUIRE(wait_until([&] { return node.api.watches() > watches; }, 40s));
  CHECK_THAT(node.api.watch_targets().back(), Catch::Contains("resourceVersion=555"));

  // The server no longer has those events: 410 Gone, and the Pod changed meanwhile.
  pod.labels = {{"app", "web-v2"}};
  node.api.set_pods({pod_json(pod)}, "900");
  node.api.answer_next_watch_gone();
  REQUIRE(wait_until([&] { return node.api.open_watches() >= 1; }, 10s));
  node.api.drop_watches();
  REQUIRE(wait_until([&] { return node.metric("logferry_kube_relists_total") >= 1; }, 40s));
  // The relist applied: the watch that follows it is open.
  REQUIRE(wait_until([&] { return node.api.lists() >= 2 && node.api.open_watches() >= 1; }, 40s));
  log.write({"two"});
  REQUIRE(wait_until([&] { return node.received("two"); }, 20s));
  CHECK(node.record("two")->resource.at("k8s.pod.label.app") == "web-v2");
  CHECK(agent.stop() == 0);
}
