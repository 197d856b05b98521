// PodWatcher against the in-test API server (HTTPS on 127.0.0.1): list, watch,
// bookmarks, 410 Gone, cut connections, a server that comes up late, a token
// rotated after a 401, a slow list. Every wait is bounded.
#include "sidecar/kube/pod_watcher.hpp"

#include <atomic>
#include <memory>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "support/certs.hpp"
#include "support/fake_api_server.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace logferry;
using namespace logferry::test;
namespace asio = boost::asio;

namespace {

FakeObject make_pod(std::string name, std::string uid, std::string rv = "1") {
  FakeObject p;
  p.name = std::move(name);
  p.ns = "shop";
  p.uid = std::move(uid);
  p.node = "node-1";
  p.labels = {{"app", p.name}};
  p.resource_version = std::move(rv);
  return p;
}

// A watcher on its own io_context thread, against a FakeApiServer.
struct Fixture {
  TempDir dir{"logferry-kube"};
  TestCerts certs = make_test_certs(dir.path());
  std::unique_ptr<FakeApiServer> api = std::make_unique<FakeApiServer>(certs);
  KubeOptions options;
  PodCache cache{std::chrono::milliseconds(60000)};
  KubeMetrics metrics;
  asio::io_context io;
  std::unique_ptr<PodWatcher> watcher;
  std::atomic<bool> finished{false};
  std::thread thread;

  Fixture() {
    api->set_token("secret");
    dir.write_file("token", "secret\n");
    options.api_url = api->url();
    options.ca_file = certs.ca.string();
    options.token_file = (dir / "token").string();
    options.node_name = "node-1";
    options.backoff_initial = 20ms;
    options.backoff_max = 100ms;
    options.request_timeout = 2000ms;
  }
  ~Fixture() { stop(); }

  void start() {
    watcher = std::make_unique<PodWatcher>(io.get_executor(), options, cache, metrics);
    asio::co_spawn(io, watcher->run(), [this](std::exception_ptr) { finished = true; });
    thread = std::thread([this] { io.run(); });
  }
  void stop() {
    if (!thread.joinable()) return;
    watcher->stop();
    CHECK(wait_until([&] { return finished.load(); }, 5s));
    io.stop();
    thread.join();
  }
  bool has(const std::string& name, const std::string& label) {
    auto p = cache.find("shop", name);
    return p && !p->deleted && !p->labels.empty() && p->labels[0].second == label;
  }
  // Waits for the n-th watch to be open on the server.
  bool watching(size_t n) {
    return wait_until([&] { return api->watches() >= n && api->open_watches() == 1; }, 5s);
  }
};

}  // namespace

TEST_CASE("PodWatcher: the first list fills the cache, the watch applies ADDED, MODIFIED and DELETED", "[kube]") {
  Fixture f;
  auto rs_pod = make_pod("web-1", "u1");
  rs_pod.owners = {{"ReplicaSet", "web-7d9f", true}};
  FakeObject rs;
  rs.name = "web-7d9f";
  rs.ns = "shop";
  rs.owners = {{"Deployment", "web", true}};
  f.api->set_object("/apis/apps/v1/namespaces/shop/replicasets/web-7d9f", owner_json("ReplicaSet", rs));
  f.api->set_pods({pod_json(rs_pod), pod_json(make_pod("db-0", "u2"))}, "100");
  f.start();
  REQUIRE(wait_until([&] { return f.watcher->synced(); }, 5s));
  CHECK(f.cache.size() == 2);
  auto web = f.cache.find("shop", "web-1", "u1");
  REQUIRE(web);
  CHECK(web->workload == KeyValues{{"k8s.replicaset.name", "web-7d9f"}, {"k8s.deployment.name", "web"}});
  CHECK(f.api->lists() == 1);
  REQUIRE(f.watching(1));
  CHECK(f.api->watch_targets()[0].find("fieldSelector=spec.nodeName%3Dnode-1") != std::string::npos);
  CHECK(f.api->watch_targets()[0].find("resourceVersion=100") != std::string::npos);
  CHECK(f.api->watch_targets()[0].find("allowWatchBookmarks=true") != std::string::npos);

  const auto v = f.cache.version();
  f.api->push_event(watch_event_json("ADDED", pod_json(make_pod("api-0", "u3", "101"))));
  REQUIRE(wait_until([&] { return f.has("api-0", "api-0"); }, 5s));
  CHECK(f.cache.version() != v);
  auto changed = make_pod("db-0", "u2", "102");
  changed.labels = {{"app", "db-v2"}};
  f.api->push_event(watch_event_json("MODIFIED", pod_json(changed)));
  REQUIRE(wait_until([&] { return f.has("db-0", "db-v2"); }, 5s));
  f.api->push_event(watch_event_json("DELETED", pod_json(rs_pod)));
  REQUIRE(wait_until([&] { auto p = f.cache.find("shop", "web-1"); return p && p->deleted; }, 5s));
  // The deleted Pod keeps its labels and workload for files read after the deletion.
  CHECK(f.cache.find("shop", "web-1", "u1")->workload.size() == 2);
  CHECK(f.metrics.watch_events == 3);
  CHECK(f.metrics.api_errors == 0);
  CHECK(f.api->object_gets("/apis/apps/v1/namespaces/shop/replicasets/web-7d9f") == 1);  // cached
}

TEST_CASE("PodWatcher: a BOOKMARK moves the resource version of the next watch; an ended watch is re-opened", "[kube]") {
  Fixture f;
  f.api->set_pods({}, "5");
  f.start();
  REQUIRE(f.watching(1));
  f.api->push_event(bookmark_event_json("42"));
  REQUIRE(wait_until([&] { return f.metrics.watch_events == 1; }, 5s));
  f.api->end_watches();
  REQUIRE(f.watching(2));
  CHECK(f.api->watch_targets()[1].find("resourceVersion=42&") != std::string::npos);
  CHECK(f.api->lists() == 1);
}

TEST_CASE("PodWatcher: 410 Gone relists (HTTP status and ERROR event)", "[kube]") {
  Fixture f;
  f.api->set_pods({pod_json(make_pod("a", "ua"))}, "10");
  f.start();
  REQUIRE(f.watching(1));
  // ERROR 410 on the open watch: relist, where "a" is gone and "b" is new.
  f.api->set_pods({pod_json(make_pod("b", "ub"))}, "20");
  f.api->push_event(error_event_json(410));
  REQUIRE(wait_until([&] { return f.api->lists() == 2 && f.has("b", "b"); }, 5s));
  CHECK(f.cache.find("shop", "a")->deleted);
  CHECK(f.metrics.relists == 1);
  REQUIRE(f.watching(2));
  CHECK(f.api->watch_targets()[1].find("resourceVersion=20&") != std::string::npos);
  // 410 as the HTTP status of the next watch.
  f.api->answer_next_watch_gone();
  f.api->drop_watches();
  REQUIRE(wait_until([&] { return f.api->lists() == 3; }, 5s));
  CHECK(wait_until([&] { return f.metrics.relists == 2; }, 5s));
}

TEST_CASE("PodWatcher: a cut connection re-watches from the last resource version", "[kube]") {
  Fixture f;
  f.api->set_pods({}, "7");
  f.start();
  REQUIRE(f.watching(1));
  f.api->push_event(watch_event_json("ADDED", pod_json(make_pod("x", "ux", "8"))));
  REQUIRE(wait_until([&] { return f.has("x", "x"); }, 5s));
  f.api->drop_watches();
  REQUIRE(f.watching(2));
  CHECK(f.api->watch_targets()[1].find("resourceVersion=8&") != std::string::npos);
  CHECK(f.api->lists() == 1);
  CHECK(f.metrics.api_errors >= 1);
  CHECK(f.has("x", "x"));
}

TEST_CASE("PodWatcher: a server that is down at the start is synced with after a backoff", "[kube]") {
  Fixture f;
  const uint16_t port = f.api->port();
  f.api.reset();  // nothing listens on the port now
  f.start();
  REQUIRE(wait_until([&] { return f.metrics.api_errors >= 2; }, 5s));
  CHECK_FALSE(f.watcher->synced());
  f.api = std::make_unique<FakeApiServer>(f.certs, port);
  f.api->set_token("secret");
  f.api->set_pods({pod_json(make_pod("late", "ul"))}, "3");
  REQUIRE(wait_until([&] { return f.watcher->synced(); }, 5s));
  CHECK(f.has("late", "late"));
}

TEST_CASE("PodWatcher: a 401 is counted; a rewritten token file is read again and syncs", "[kube]") {
  Fixture f;
  f.dir.write_file("token", "stale-token\n");
  f.api->set_pods({pod_json(make_pod("a", "ua"))}, "1");
  f.start();
  REQUIRE(wait_until([&] { return f.api->unauthorized() >= 2; }, 5s));
  CHECK(f.metrics.unauthorized >= 2);
  CHECK_FALSE(f.watcher->synced());
  f.dir.write_file("token", "secret\n");
  REQUIRE(wait_until([&] { return f.watcher->synced(); }, 5s));
  CHECK(f.has("a", "a"));
}

TEST_CASE("PodWatcher: a slow first list does not block the io_context; stop() ends run() at once", "[kube]") {
  Fixture f;
  f.api->set_list_delay(1500ms);
  f.api->set_pods({}, "1");
  f.start();
  std::atomic<bool> fired{false};
  asio::steady_timer timer(f.io, 50ms);
  timer.async_wait([&](boost::system::error_code) { fired = true; });
  REQUIRE(wait_until([&] { return f.api->lists() == 1; }, 5s));
  CHECK(wait_until([&] { return fired.load(); }, 1000ms));
  CHECK_FALSE(f.watcher->synced());
  const auto t0 = std::chrono::steady_clock::now();
  f.stop();
  CHECK(std::chrono::steady_clock::now() - t0 < 1000ms);
}

TEST_CASE("PodWatcher: an over-long event line breaks the watch, a bad line is skipped, both counted", "[kube]") {
  Fixture f;
  f.options.max_event_bytes = 4096;
  f.api->set_pods({}, "1");
  f.start();
  REQUIRE(f.watching(1));
  auto big = make_pod("big", "ub", "2");
  big.labels = {{"app", std::string(10000, 'x')}};
  f.api->push_event(watch_event_json("ADDED", pod_json(big)));
  REQUIRE(f.watching(2));  // re-watched from the last resource version
  CHECK(f.api->watch_targets()[1].find("resourceVersion=1&") != std::string::npos);
  CHECK(f.metrics.api_errors >= 1);
  CHECK_FALSE(f.cache.find("shop", "big"));
  const uint64_t errors = f.metrics.api_errors;
  f.api->push_event("{\"type\":\"ADDED\",\"object\":");
  f.api->push_event(watch_event_json("ADDED", pod_json(make_pod("ok", "uo", "3"))));
  REQUIRE(wait_until([&] { return f.has("ok", "ok"); }, 5s));
  CHECK(f.metrics.api_errors == errors + 1);
  CHECK(f.api->watches() == 2);
}

TEST_CASE("PodWatcher: a list larger than max_list_bytes is an error, retried", "[kube]") {
  Fixture f;
  f.options.max_list_bytes = 512;
  f.api->set_pods({pod_json(make_pod("a", "ua")), pod_json(make_pod("b", "ub"))}, "1");
  f.start();
  REQUIRE(wait_until([&] { return f.api->lists() >= 2; }, 5s));
  CHECK_FALSE(f.watcher->synced());
  CHECK(f.metrics.api_errors >= 1);
  CHECK(f.cache.size() == 0);
}

TEST_CASE("PodWatcher: a hanging or refused owner lookup still updates the Pod, with its direct owner", "[kube]") {
  Fixture f;
  f.options.request_timeout = 300ms;
  f.api->set_object("/apis/apps/v1/namespaces/shop/replicasets/slow", "{}", 200, 3000ms);
  f.api->set_object("/apis/batch/v1/namespaces/shop/jobs/secret", "{}", 403);
  f.api->set_pods({}, "1");
  f.start();
  REQUIRE(f.watching(1));
  auto slow = make_pod("slow-1", "us", "2");
  slow.owners = {{"ReplicaSet", "slow", true}};
  auto job = make_pod("job-1", "uj", "3");
  job.owners = {{"Job", "secret", true}};
  const auto t0 = std::chrono::steady_clock::now();
  f.api->push_event(watch_event_json("ADDED", pod_json(slow)));
  f.api->push_event(watch_event_json("ADDED", pod_json(job)));
  REQUIRE(wait_until([&] { return f.has("slow-1", "slow-1") && f.has("job-1", "job-1"); }, 5s));
  CHECK(std::chrono::steady_clock::now() - t0 < 2000ms);
  CHECK(f.cache.find("shop", "slow-1")->workload == KeyValues{{"k8s.replicaset.name", "slow"}});
  CHECK(f.cache.find("shop", "job-1")->workload == KeyValues{{"k8s.job.name", "secret"}});
  CHECK(f.metrics.owner_lookup_errors == 2);
}
