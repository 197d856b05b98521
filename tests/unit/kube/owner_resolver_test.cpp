#include "sidecar/kube/owner_resolver.hpp"

#include <map>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include "support/fake_api_server.hpp"

using namespace logferry;
using namespace logferry::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// Objects by API path; a path missing from the table is a network failure.
struct Fixture {
  std::map<std::string, ApiResponse> objects;
  std::map<std::string, int> fetched;
  KubeMetrics metrics;
  OwnerResolver resolver{[this](std::string path) -> asio::awaitable<boost::system::result<ApiResponse>> {
                           ++fetched[path];
                           const auto it = objects.find(path);
                           if (it == objects.end()) co_return make_error_code(asio::error::connection_refused);
                           co_return it->second;
                         },
                         metrics, 16, 1h};

  KeyValues resolve(std::string kind, std::string name, std::string ns = "shop") {
    PodInfo pod;
    pod.ns = std::move(ns);
    pod.name = "p";
    pod.uid = "u";
    pod.owner = PodInfo::Owner{std::move(kind), std::move(name)};
    asio::io_context io;
    auto done = asio::co_spawn(io, resolver.resolve(pod), asio::use_future);
    io.run();
    done.get();
    return pod.workload;
  }
  void set(const std::string& path, std::string_view kind, std::string parent_kind, std::string parent_name) {
    FakeObject o;
    o.name = path.substr(path.rfind('/') + 1);
    o.owners = {{std::move(parent_kind), std::move(parent_name), true}};
    objects[path] = ApiResponse{200, owner_json(kind, o)};
  }
};

}  // namespace

TEST_CASE("owner resolution: ReplicaSet of a Deployment, cached", "[kube]") {
  Fixture f;
  f.set("/apis/apps/v1/namespaces/shop/replicasets/web-7d9f", "ReplicaSet", "Deployment", "web");
  const KeyValues want{{"k8s.replicaset.name", "web-7d9f"}, {"k8s.deployment.name", "web"}};
  CHECK(f.resolve("ReplicaSet", "web-7d9f") == want);
  CHECK(f.resolve("ReplicaSet", "web-7d9f") == want);
  CHECK(f.fetched["/apis/apps/v1/namespaces/shop/replicasets/web-7d9f"] == 1);
  CHECK(f.metrics.owner_lookups == 1);
  CHECK(f.metrics.owner_lookup_errors == 0);
}

TEST_CASE("owner resolution: Job of a CronJob; a bare Job; the other kinds need no lookup", "[kube]") {
  Fixture f;
  f.set("/apis/batch/v1/namespaces/shop/jobs/backup-2843", "Job", "CronJob", "backup");
  CHECK(f.resolve("Job", "backup-2843") == KeyValues{{"k8s.job.name", "backup-2843"}, {"k8s.cronjob.name", "backup"}});
  FakeObject bare;
  bare.name = "once";
  f.objects["/apis/batch/v1/namespaces/shop/jobs/once"] = ApiResponse{200, owner_json("Job", bare)};
  CHECK(f.resolve("Job", "once") == KeyValues{{"k8s.job.name", "once"}});
  CHECK(f.resolve("StatefulSet", "db") == KeyValues{{"k8s.statefulset.name", "db"}});
  CHECK(f.resolve("DaemonSet", "agent") == KeyValues{{"k8s.daemonset.name", "agent"}});
  CHECK(f.resolve("Node", "n1").empty());  // static (mirror) Pods
  CHECK(f.metrics.owner_lookups == 2);
}

TEST_CASE("owner resolution: a ReplicaSet owned by something else gives no deployment", "[kube]") {
  Fixture f;
  f.set("/apis/apps/v1/namespaces/shop/replicasets/rs", "ReplicaSet", "Rollout", "r");
  CHECK(f.resolve("ReplicaSet", "rs") == KeyValues{{"k8s.replicaset.name", "rs"}});
}

TEST_CASE("owner resolution: a failed lookup still gives the direct owner, is counted and not retried at once", "[kube]") {
  Fixture f;
  f.objects["/apis/apps/v1/namespaces/shop/replicasets/forbidden"] = ApiResponse{403, "{}"};
  CHECK(f.resolve("ReplicaSet", "forbidden") == KeyValues{{"k8s.replicaset.name", "forbidden"}});
  CHECK(f.resolve("ReplicaSet", "unreachable") == KeyValues{{"k8s.replicaset.name", "unreachable"}});
  CHECK(f.resolve("Job", "gone") == KeyValues{{"k8s.job.name", "gone"}});
  CHECK(f.metrics.owner_lookup_errors == 3);
  CHECK(f.resolve("ReplicaSet", "forbidden") == KeyValues{{"k8s.replicaset.name", "forbidden"}});
  CHECK(f.metrics.owner_lookups == 3);  // remembered for retry_failed (1 h here)
  // Hostile names are percent-encoded in the path.
  CHECK(f.resolve("ReplicaSet", "../x?y", "a/b") == KeyValues{{"k8s.replicaset.name", "../x?y"}});
  CHECK(f.fetched.contains("/apis/apps/v1/namespaces/a%2Fb/replicasets/..%2Fx%3Fy"));
}

TEST_CASE("owner resolution: the cache stays bounded", "[kube]") {
  Fixture f;
  for (int i = 0; i < 100; ++i) f.resolve("ReplicaSet", "rs-" + std::to_string(i));
  CHECK(f.resolver.cached() <= 16);
}
