#include "sidecar/source/container_log_name.hpp"

#include <string>

#include <catch2/catch.hpp>

using namespace logferry;

namespace {
const std::string kId = "4f1c2a9e0b7d3c5a6e8f9d0c1b2a3948576e5d4c3b2a19080706050403020100";
}  // namespace

TEST_CASE("container log names give pod, namespace, container and id", "[source][node]") {
  struct Case {
    std::string path;
    std::string pod, ns, container;
  };
  const Case cases[] = {
      {"/var/log/containers/web-0_default_app-" + kId + ".log", "web-0", "default", "app"},
      {"web-7d9f8b6c4-x2x9z_shop_nginx-" + kId + ".log", "web-7d9f8b6c4-x2x9z", "shop", "nginx"},
      {"/tmp/c/coredns-5d78c9869d-abcde_kube-system_coredns-" + kId + ".log", "coredns-5d78c9869d-abcde",
       "kube-system", "coredns"},
      // Pod names are DNS subdomains (dots allowed); containers may contain '-'.
      {"/x/etcd-node1.example.com_kube-system_etcd-main-" + kId + ".log", "etcd-node1.example.com", "kube-system",
       "etcd-main"},
  };
  for (const auto& c : cases) {
    INFO(c.path);
    const auto name = parse_container_log_name(c.path);
    REQUIRE(name.has_value());
    CHECK(name->pod == c.pod);
    CHECK(name->pod_namespace == c.ns);
    CHECK(name->container == c.container);
    CHECK(name->container_id == kId);
  }
}

TEST_CASE("names that are not the kubelet's are refused", "[source][node]") {
  const std::string invalid[] = {
      "/var/log/containers/app.log",
      "/var/log/containers/web-0_default_app.log",                          // no id
      "/var/log/containers/web-0_default_app-" + kId.substr(1) + ".log",    // 63 hex digits
      "/var/log/containers/web-0_default_app-" + kId + "0.log",             // 65 hex digits
      "/var/log/containers/web-0_default_app-" + kId + ".log.1",            // rotated name
      "/var/log/containers/web-0_default_app-" + kId + ".log.gz",
      "/var/log/containers/web-0_default_app_" + kId + ".log",              // '_' before the id
      "/var/log/containers/web-0_default-app-" + kId + ".log",              // two parts
      "/var/log/containers/web_0_default_app-" + kId + ".log",              // four parts
      "/var/log/containers/_default_app-" + kId + ".log",                   // empty pod
      "/var/log/containers/web-0__app-" + kId + ".log",                     // empty namespace
      "/var/log/containers/web-0_default_-" + kId + ".log",                 // empty container
      "/var/log/containers/web-0_default_app-" + std::string(64, 'G') + ".log",  // not hex
      "/var/log/containers/web-0_default_app-" + std::string(64, 'A') + ".log",  // uppercase
      "/var/log/containers/web 0_default_app-" + kId + ".log",              // space
      "",
      ".log",
  };
  for (const auto& path : invalid) {
    INFO(path);
    CHECK_FALSE(parse_container_log_name(path).has_value());
  }
}

TEST_CASE("container log labels use the OpenTelemetry keys", "[source][node]") {
  const auto name = parse_container_log_name("/var/log/containers/web-0_shop_app-" + kId + ".log");
  REQUIRE(name.has_value());
  const auto labels = container_log_labels(*name);
  REQUIRE(labels.size() == 4);
  CHECK(labels[0] == std::pair<std::string, std::string>{"k8s.pod.name", "web-0"});
  CHECK(labels[1] == std::pair<std::string, std::string>{"k8s.namespace.name", "shop"});
  CHECK(labels[2] == std::pair<std::string, std::string>{"k8s.container.name", "app"});
  CHECK(labels[3] == std::pair<std::string, std::string>{"container.id", kId});
}
