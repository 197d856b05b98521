#include "sidecar/kube/kube_options.hpp"

#include <map>
#include <string>

#include <catch2/catch.hpp>

using namespace logferry;

namespace {

std::function<const char*(const char*)> env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

}  // namespace

TEST_CASE("in_cluster_options builds the API URL from the service variables", "[kube]") {
  auto o = in_cluster_options(env({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}));
  REQUIRE(o);
  CHECK(o->api_url == "https://10.96.0.1:443");
  CHECK(o->ca_file == "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
  CHECK(o->token_file == "/var/run/secrets/kubernetes.io/serviceaccount/token");
  CHECK(o->label_globs == std::vector<std::string>{"*"});
  CHECK(o->annotation_globs.empty());

  o = in_cluster_options(env({{"KUBERNETES_SERVICE_HOST", "fd00:10:96::1"}, {"KUBERNETES_SERVICE_PORT", "6443"}}));
  REQUIRE(o);
  CHECK(o->api_url == "https://[fd00:10:96::1]:6443");
  o = in_cluster_options(env({{"KUBERNETES_SERVICE_HOST", "[fd00::1]"}, {"KUBERNETES_SERVICE_PORT", "443"}}));
  REQUIRE(o);
  CHECK(o->api_url == "https://[fd00::1]:443");
}

TEST_CASE("in_cluster_options is nothing outside a cluster or with a bad port", "[kube]") {
  CHECK_FALSE(in_cluster_options(env({})));
  CHECK_FALSE(in_cluster_options(env({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}})));
  CHECK_FALSE(in_cluster_options(env({{"KUBERNETES_SERVICE_PORT", "443"}})));
  CHECK_FALSE(in_cluster_options(env({{"KUBERNETES_SERVICE_HOST", ""}, {"KUBERNETES_SERVICE_PORT", "443"}})));
  for (const char* port : {"", "0", "65536", "44x", "-1", " 443"})
    CHECK_FALSE(in_cluster_options(env({{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", port}})));
}

TEST_CASE("parse_api_url takes https URLs with a name, an IPv4 or a bracketed IPv6 host", "[kube]") {
  auto ep = parse_api_url("https://10.96.0.1:443");
  REQUIRE(ep);
  CHECK(ep->host == "10.96.0.1");
  CHECK(ep->port == 443);
  CHECK(ep->host_header == "10.96.0.1:443");
  ep = parse_api_url("https://[::1]:6443/");
  REQUIRE(ep);
  CHECK(ep->host == "::1");
  CHECK(ep->port == 6443);
  CHECK(ep->host_header == "[::1]:6443");
  ep = parse_api_url("https://kubernetes.default.svc");
  REQUIRE(ep);
  CHECK(ep->port == 443);
  for (const char* bad : {"http://h:80", "https://", "https://:443", "https://h:0", "https://h:x", "https://h/api",
                          "https://u@h", "https://[::1", "https://[::1]x", "h:443"})
    CHECK_FALSE(parse_api_url(bad));
}

TEST_CASE("percent_encode keeps unreserved bytes only", "[kube]") {
  CHECK(percent_encode("spec.nodeName=node-1") == "spec.nodeName%3Dnode-1");
  CHECK(percent_encode("a b/c&d~_") == "a%20b%2Fc%26d~_");
  CHECK(percent_encode("\xff") == "%FF");
}
