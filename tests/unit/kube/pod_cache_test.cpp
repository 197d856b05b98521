#include "sidecar/kube/pod_cache.hpp"

#include <catch2/catch.hpp>

using namespace logferry;
using namespace std::chrono_literals;

namespace {

PodInfo pod(std::string name, std::string uid, std::string app = "web") {
  PodInfo p;
  p.ns = "shop";
  p.name = std::move(name);
  p.uid = std::move(uid);
  p.labels = {{"app", std::move(app)}};
  return p;
}

const PodCache::Clock::time_point t0{};

}  // namespace

TEST_CASE("PodCache finds by name, checks the uid when given", "[kube]") {
  PodCache c(60s);
  c.upsert(pod("web-0", "u1"), t0);
  REQUIRE(c.find("shop", "web-0"));
  CHECK(c.find("shop", "web-0")->uid == "u1");
  CHECK(c.find("shop", "web-0", "u1"));
  CHECK_FALSE(c.find("shop", "web-0", "u2"));
  CHECK_FALSE(c.find("other", "web-0"));
  CHECK_FALSE(c.find("other", "web-0", "u1"));
  CHECK(c.size() == 1);
}

TEST_CASE("PodCache version changes only when an entry changes", "[kube]") {
  PodCache c(60s);
  const auto v0 = c.version();
  c.upsert(pod("web-0", "u1"), t0);
  const auto v1 = c.version();
  CHECK(v1 != v0);
  c.upsert(pod("web-0", "u1"), t0);  // a status-only MODIFIED: same metadata
  CHECK(c.version() == v1);
  auto held = c.find("shop", "web-0");
  c.upsert(pod("web-0", "u1", "web2"), t0);
  CHECK(c.version() != v1);
  CHECK(held->labels[0].second == "web");  // a holder keeps its copy
  CHECK(c.find("shop", "web-0")->labels[0].second == "web2");
}

TEST_CASE("PodCache keeps a deleted Pod for the ttl, then drops it", "[kube]") {
  PodCache c(60s);
  c.upsert(pod("web-0", "u1"), t0);
  c.remove(pod("web-0", "u1"), t0 + 1s);
  auto p = c.find("shop", "web-0", "u1");
  REQUIRE(p);
  CHECK(p->deleted);
  const auto v = c.version();
  CHECK(c.prune(t0 + 30s) == 0);
  CHECK(c.version() == v);
  CHECK(c.prune(t0 + 61s) == 1);
  CHECK(c.version() != v);
  CHECK_FALSE(c.find("shop", "web-0"));
  CHECK(c.size() == 0);
  CHECK(p->name == "web-0");  // the holder's copy lives on
}

TEST_CASE("PodCache: a Pod re-created under the same name", "[kube]") {
  PodCache c(60s);
  c.upsert(pod("web-0", "u1"), t0);
  c.upsert(pod("web-0", "u2", "new"), t0 + 1s);  // ADDED of the new one before DELETED of the old
  c.remove(pod("web-0", "u1"), t0 + 2s);
  CHECK(c.find("shop", "web-0")->uid == "u2");
  CHECK_FALSE(c.find("shop", "web-0")->deleted);
  REQUIRE(c.find("shop", "web-0", "u1"));
  CHECK(c.find("shop", "web-0", "u1")->deleted);
  c.prune(t0 + 70s);
  CHECK_FALSE(c.find("shop", "web-0", "u1"));
  CHECK(c.find("shop", "web-0", "u2"));
  CHECK(c.size() == 1);
}

TEST_CASE("PodCache relist marks missing Pods deleted and prunes them later", "[kube]") {
  PodCache c(10s);
  c.upsert(pod("a", "ua"), t0);
  c.upsert(pod("b", "ub"), t0);
  const auto v = c.version();
  c.replace_all({pod("b", "ub"), pod("c", "uc")}, t0 + 1s);
  CHECK(c.version() != v);
  CHECK(c.find("shop", "a")->deleted);
  CHECK_FALSE(c.find("shop", "b")->deleted);
  CHECK(c.find("shop", "c"));
  c.replace_all({pod("b", "ub"), pod("c", "uc")}, t0 + 20s);  // every change prunes too
  CHECK_FALSE(c.find("shop", "a"));
  CHECK(c.size() == 2);
}

TEST_CASE("PodCache: a DELETED for an unknown Pod is kept for the ttl only", "[kube]") {
  PodCache c(5s);
  for (int i = 0; i < 100; ++i) c.remove(pod("p" + std::to_string(i), "u" + std::to_string(i)), t0 + std::chrono::seconds(i));
  CHECK(c.size() <= 6);
}
