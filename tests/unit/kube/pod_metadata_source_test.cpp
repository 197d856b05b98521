#include "sidecar/kube/pod_metadata_source.hpp"

#include <catch2/catch.hpp>

using namespace logferry;
using namespace std::chrono_literals;

namespace {

PodInfo shop_pod(KeyValues settings = {}) {
  PodInfo p;
  p.ns = "shop";
  p.name = "web-0";
  p.uid = "uid-web-0";
  p.labels = {{"app", "web"}};
  p.annotations = {{"team.example/owner", "payments"}};
  p.workload = {{"k8s.replicaset.name", "web-5d8c9"}, {"k8s.deployment.name", "web"}};
  p.settings = std::move(settings);
  return p;
}

Origin file_of(std::string container, std::string pod = "web-0") {
  Origin o;
  o.path = "/var/log/containers/x.log";
  o.resource = {{"k8s.pod.name", std::move(pod)}, {"k8s.namespace.name", "shop"}, {"k8s.container.name", std::move(container)}};
  return o;
}

bool is_parser(std::string_view name) { return name == "json" || name == "logfmt" || name == "plain"; }

}  // namespace

TEST_CASE("PodMetadataSource: a file's Pod as resource labels, in order", "[kube]") {
  PodCache cache(60s);
  cache.upsert(shop_pod());
  const PodMetadataSource source(cache, is_parser);
  const auto m = source.lookup(file_of("app"));
  CHECK(m.known);
  CHECK(m.resource == Labels{{"k8s.pod.uid", "uid-web-0"},
                             {"k8s.pod.label.app", "web"},
                             {"k8s.pod.annotation.team.example/owner", "payments"},
                             {"k8s.replicaset.name", "web-5d8c9"},
                             {"k8s.deployment.name", "web"}});
  CHECK_FALSE(m.exclude);
  CHECK(m.parser.empty());
  CHECK(m.multiline.empty());
  CHECK_FALSE(source.lookup(file_of("app", "other-pod")).known);
  Origin unnamed;  // a file whose name did not give a Pod
  CHECK_FALSE(source.lookup(unnamed).known);
}

TEST_CASE("PodMetadataSource: logferry.io annotations; the container's parser wins; bad values ignored", "[kube]") {
  PodCache cache(60s);
  cache.upsert(shop_pod({{"logferry.io/exclude", "true"},
                         {"logferry.io/multiline", "java"},
                         {"logferry.io/parser", "logfmt"},
                         {"logferry.io/parser-app", "json"}}));
  const PodMetadataSource source(cache, is_parser);
  const auto app = source.lookup(file_of("app"));
  CHECK(app.exclude);
  CHECK(app.parser == "json");
  CHECK(app.multiline == "java");
  CHECK(source.lookup(file_of("sidecar")).parser == "logfmt");  // the Pod's parser for its other containers
  CHECK(source.lookup(file_of("ap")).parser == "logfmt");       // a prefix of "app" is another container

  cache.upsert(shop_pod({{"logferry.io/exclude", "yes"},
                         {"logferry.io/multiline", "cobol"},
                         {"logferry.io/parser", "no-such-parser"}}));
  const auto bad = source.lookup(file_of("app"));
  CHECK_FALSE(bad.exclude);      // only "true" excludes
  CHECK(bad.multiline.empty());  // not a preset
  CHECK(bad.parser.empty());     // not a parser: the agent's own stays
}

TEST_CASE("PodMetadataSource: version follows the cache", "[kube]") {
  PodCache cache(60s);
  const PodMetadataSource source(cache, is_parser);
  const uint64_t before = source.version();
  cache.upsert(shop_pod());
  CHECK(source.version() != before);
}
