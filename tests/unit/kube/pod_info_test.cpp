#include "sidecar/kube/pod_info.hpp"

#include <string>

#include <catch2/catch.hpp>

#include "support/fake_api_server.hpp"

using namespace logferry;
using namespace logferry::test;

namespace {

FakeObject web_pod() {
  FakeObject p;
  p.name = "web-7d9f-abcde";
  p.ns = "shop";
  p.uid = "uid-1";
  p.node = "node-1";
  p.labels = {{"app", "web"}, {"pod-template-hash", "7d9f"}, {"team", "payments"}};
  p.annotations = {{"prometheus.io/scrape", "true"}, {"kubectl.kubernetes.io/last-applied-configuration", "{}"}};
  p.owners = {{"ReplicaSet", "web-7d9f", true}};
  return p;
}

}  // namespace

TEST_CASE("parse_pod reads identity, node, controller owner and filtered labels", "[kube]") {
  KubeOptions o;
  o.label_globs = {"app", "team*"};
  o.annotation_globs = {"prometheus.io/*"};
  auto pod = parse_pod(pod_json(web_pod()), o);
  REQUIRE(pod);
  CHECK(pod->ns == "shop");
  CHECK(pod->name == "web-7d9f-abcde");
  CHECK(pod->uid == "uid-1");
  CHECK(pod->node == "node-1");
  CHECK(pod->labels == KeyValues{{"app", "web"}, {"team", "payments"}});
  CHECK(pod->annotations == KeyValues{{"prometheus.io/scrape", "true"}});
  REQUIRE(pod->owner);
  CHECK(pod->owner->kind == "ReplicaSet");
  CHECK(pod->owner->name == "web-7d9f");
  CHECK(pod->workload.empty());
  CHECK_FALSE(pod->deleted);
}

TEST_CASE("parse_pod: default globs keep every label and no annotation", "[kube]") {
  auto pod = parse_pod(pod_json(web_pod()), KubeOptions{});
  REQUIRE(pod);
  CHECK(pod->labels.size() == 3);
  CHECK(pod->annotations.empty());
}

TEST_CASE("parse_pod: only the controller owner counts", "[kube]") {
  auto p = web_pod();
  p.owners = {{"ConfigMap", "x", false}, {"StatefulSet", "db", true}};
  auto pod = parse_pod(pod_json(p), KubeOptions{});
  REQUIRE(pod);
  REQUIRE(pod->owner);
  CHECK(pod->owner->kind == "StatefulSet");
  p.owners = {{"ReplicaSet", "x", false}};
  pod = parse_pod(pod_json(p), KubeOptions{});
  REQUIRE(pod);
  CHECK_FALSE(pod->owner);
}

TEST_CASE("parse_pod survives missing fields, wrong types and hostile JSON", "[kube]") {
  const KubeOptions o;
  // Minimal: identity only.
  auto pod = parse_pod(R"({"metadata":{"namespace":"a","name":"b","uid":"c"}})", o);
  REQUIRE(pod);
  CHECK(pod->node.empty());
  CHECK(pod->labels.empty());
  CHECK_FALSE(pod->owner);
  // Wrong types are treated as missing.
  pod = parse_pod(R"({"metadata":{"namespace":"a","name":"b","uid":"c","labels":{"x":1,"y":"ok","z":null},)"
                  R"("ownerReferences":{"kind":"ReplicaSet"}},"spec":"nope"})",
                  o);
  REQUIRE(pod);
  CHECK(pod->labels == KeyValues{{"y", "ok"}});
  CHECK_FALSE(pod->owner);
  pod = parse_pod(R"({"metadata":{"namespace":"a","name":"b","uid":"c","ownerReferences":[1,"x",{"controller":"yes"},)"
                  R"({"controller":true,"kind":"ReplicaSet"}]}})",
                  o);
  REQUIRE(pod);
  CHECK_FALSE(pod->owner);
  // Not a Pod at all.
  for (const char* bad :
       {"", "null", "[]", "42", "\"x\"", "{", "{\"metadata\":{\"name\":\"b\",\"uid\":\"c\"}}",
        "{\"metadata\":{\"namespace\":\"a\",\"name\":\"\",\"uid\":\"c\"}}", "{\"metadata\":[]}",
        "{\"metadata\":{\"namespace\":\"a\",\"name\":\"b\",\"uid\":7}}", "{\"metadata\":{\"namespace\":\"a\"\xff}}"})
    CHECK_FALSE(parse_pod(bad, o));
  // Deep nesting and invalid UTF-8 are refused, not crashed on.
  CHECK_FALSE(parse_pod(std::string(100000, '[') + std::string(100000, ']'), o));
  CHECK_FALSE(parse_pod("{\"metadata\":{\"namespace\":\"\xc3\x28\",\"name\":\"b\",\"uid\":\"c\"}}", o));
  // A huge label value is dropped, the others kept.
  auto p = web_pod();
  p.labels = {{"big", std::string(100000, 'v')}, {"small", "s"}};
  pod = parse_pod(pod_json(p), o);
  REQUIRE(pod);
  CHECK(pod->labels == KeyValues{{"small", "s"}});
}

TEST_CASE("parse_pod_list reads items and the resource version, skipping bad items", "[kube]") {
  auto a = web_pod();
  auto b = web_pod();
  b.name = "db-0";
  b.uid = "uid-2";
  const std::string json = R"({"kind":"PodList","metadata":{"resourceVersion":"1234"},"items":[)" + pod_json(a) + "," +
                           pod_json(b) + R"(,{"metadata":{}},17]})";
  auto list = parse_pod_list(json, KubeOptions{});
  REQUIRE(list);
  CHECK(list->resource_version == "1234");
  REQUIRE(list->items.size() == 2);
  CHECK(list->items[1].name == "db-0");
  CHECK(list->skipped == 2);
  CHECK(parse_pod_list(R"({"metadata":{"resourceVersion":"1"},"items":[]})", KubeOptions{})->items.empty());
  CHECK_FALSE(parse_pod_list(R"({"metadata":{"resourceVersion":"1"}})", KubeOptions{}));
  CHECK_FALSE(parse_pod_list(R"({"items":{}})", KubeOptions{}));
  CHECK_FALSE(parse_pod_list("not json", KubeOptions{}));
}

TEST_CASE("parse_watch_event reads every event type", "[kube]") {
  const KubeOptions o;
  auto p = web_pod();
  p.resource_version = "77";
  for (auto [text, type] : {std::pair{"ADDED", WatchEvent::Type::added},
                            {"MODIFIED", WatchEvent::Type::modified},
                            {"DELETED", WatchEvent::Type::deleted}}) {
    auto ev = parse_watch_event(watch_event_json(text, pod_json(p)), o);
    REQUIRE(ev);
    CHECK(ev->type == type);
    REQUIRE(ev->pod);
    CHECK(ev->pod->uid == "uid-1");
    CHECK(ev->resource_version == "77");
  }
  auto ev = parse_watch_event(bookmark_event_json("99"), o);
  REQUIRE(ev);
  CHECK(ev->type == WatchEvent::Type::bookmark);
  CHECK_FALSE(ev->pod);
  CHECK(ev->resource_version == "99");
  ev = parse_watch_event(error_event_json(410), o);
  REQUIRE(ev);
  CHECK(ev->type == WatchEvent::Type::error);
  CHECK(ev->code == 410);
  ev = parse_watch_event(R"({"type":"ERROR","object":{"code":"x"}})", o);
  REQUIRE(ev);
  CHECK(ev->code == 0);
}

TEST_CASE("parse_watch_event refuses what is not a Pod event", "[kube]") {
  const KubeOptions o;
  for (const char* bad : {"", "{}", "[]", R"({"type":"SYNC","object":{}})", R"({"type":"ADDED"})",
                          R"({"type":"ADDED","object":{"metadata":{}}})", R"({"type":7,"object":{}})",
                          R"({"type":"ADDED","object":)"})
    CHECK_FALSE(parse_watch_event(bad, o));
}
