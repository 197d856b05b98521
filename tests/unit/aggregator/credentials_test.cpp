#include "aggregator/credentials.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>

#include <catch2/catch.hpp>

#include "support/certs.hpp"
#include "support/temp_dir.hpp"

using namespace logferry;
using namespace logferry::aggregator;

namespace {

const std::string kHash(64, 'a');

v1::Batch batch_in(std::string_view ns) {
  v1::Batch b;
  auto* kv = b.add_resource();
  kv->set_key("k8s.namespace.name");
  kv->mutable_value()->set_string_value(std::string(ns));
  b.add_sources()->set_id("s");
  return b;
}

}  // namespace

TEST_CASE("credentials files: hashes and namespace globs, errors with their line", "[aggregator]") {
  std::vector<CredentialEntry> out;
  CHECK(parse_credentials("# comment\n\nsha256:" + kHash + "  team-a, team-a-*\r\n", out).empty());
  REQUIRE(out.size() == 1);
  CHECK(out[0].hash[0] == 0xaa);
  CHECK(out[0].certificate.empty());
  CHECK(out[0].grant.allows("team-a"));
  CHECK(out[0].grant.allows("team-a-dev"));
  CHECK_FALSE(out[0].grant.allows("team-ab"));
  CHECK_FALSE(out[0].grant.allows("team-b"));
  CHECK(out[0].grant.describe() == "team-a,team-a-*");
  const std::string expected =
      "expected sha256:<64 hex digits> (the SHA-256 of a token), or uri:, dns: or cn: and a name in the client "
      "certificate, then namespace patterns";
  CHECK(parse_credentials("s3cret team-a\n", out) == "line 1: " + expected);
  CHECK(parse_credentials("uri: team-a\n", out) == "line 1: " + expected);
  CHECK(parse_credentials("\nsha256:" + std::string(64, 'g') + " x\n", out) == "line 2: the hash is not hexadecimal");
  CHECK(parse_credentials("sha256:" + kHash + "\n", out) ==
        "line 1: expected namespace patterns after the credential, e.g. team-a,team-a-*");
  CHECK(parse_credentials("cn:team-d-sidecar\n", out) ==
        "line 1: expected namespace patterns after the credential, e.g. team-a,team-a-*");
}

TEST_CASE("credentials files: names of the client certificate", "[aggregator]") {
  std::vector<CredentialEntry> out;
  REQUIRE(parse_credentials("uri:spiffe://cluster.local/ns/team-b/sa/logferry team-b\n"
                            "dns:logferry.team-c.svc team-c,team-c-*\ncn:team-d-sidecar team-d\n",
                            out)
              .empty());
  REQUIRE(out.size() == 3);
  CHECK(out[0].certificate == "uri:spiffe://cluster.local/ns/team-b/sa/logferry");
  CHECK(out[1].certificate == "dns:logferry.team-c.svc");
  CHECK(out[1].grant.describe() == "team-c,team-c-*");
  CHECK(out[2].certificate == "cn:team-d-sidecar");

  test::TempDir tmp("logferry-credentials");
  const auto path = tmp / "credentials";
  test::write_file(path, "sha256:" + test::sha256_hex("token-a") + " team-a\ncn:team-d-sidecar team-d\n");
  Credentials credentials(path.string());
  REQUIRE(credentials.load().empty());
  // A certificate line grants its namespaces to that name only, never to a token.
  auto by_name = credentials.find_certificate({"dns:x.example", "cn:team-d-sidecar"});
  REQUIRE(by_name);
  CHECK(by_name->describe() == "team-d");
  CHECK_FALSE(credentials.find_certificate({"cn:team-a"}));
  CHECK_FALSE(credentials.find_certificate({}));
  CHECK_FALSE(credentials.find("cn:team-d-sidecar"));
  REQUIRE(credentials.find("token-a"));
  CHECK(credentials.find("token-a")->describe() == "team-a");
}

TEST_CASE("certificate_names: URI and DNS subjectAltNames, then the common name", "[aggregator][tls]") {
  test::TempDir tmp("logferry-certnames");
  const test::TestCerts certs = test::make_test_certs(tmp / "certs");
  auto names_of = [](const std::filesystem::path& pem) {
    std::FILE* f = std::fopen(pem.c_str(), "r");
    REQUIRE(f != nullptr);
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    REQUIRE(cert != nullptr);
    auto names = certificate_names(cert);
    X509_free(cert);
    return names;
  };
  CHECK(names_of(certs.team_cert) == std::vector<std::string>{"uri:spiffe://cluster.local/ns/team-b/sa/logferry",
                                                              "dns:logferry.team-b.svc", "cn:team-b-sidecar"});
  CHECK(names_of(certs.client_cert) == std::vector<std::string>{"cn:logferry-sidecar"});
  CHECK(certificate_names(nullptr).empty());
}

TEST_CASE("check_namespaces: every source's namespace must be granted; _audit is nobody's", "[aggregator]") {
  const NamespaceGrant all;
  const NamespaceGrant team_a(std::vector<std::string>{"team-a"});
  CHECK(check_namespaces(batch_in("team-a"), team_a).empty());
  CHECK_FALSE(check_namespaces(batch_in("team-b"), team_a).empty());
  CHECK(check_namespaces(batch_in("team-b"), all).empty());
  CHECK_THAT(check_namespaces(batch_in("_audit"), all), Catch::Contains("reserved"));
  v1::Batch node = batch_in("team-a");
  auto* own = node.add_sources()->add_resource();
  own->set_key("k8s.namespace.name");
  own->mutable_value()->set_string_value("team-b");
  CHECK_THAT(check_namespaces(node, team_a), Catch::Contains("\"team-b\""));
  CHECK(check_namespaces(node, all).empty());
}
