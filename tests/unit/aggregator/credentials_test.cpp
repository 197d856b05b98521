#include "aggregator/credentials.hpp"

#include <catch2/catch.hpp>

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
  std::vector<std::pair<std::array<unsigned char, 32>, NamespaceGrant>> out;
  CHECK(parse_credentials("# comment\n\nsha256:" + kHash + "  team-a, team-a-*\r\n", out).empty());
  REQUIRE(out.size() == 1);
  CHECK(out[0].first[0] == 0xaa);
  CHECK(out[0].second.allows("team-a"));
  CHECK(out[0].second.allows("team-a-dev"));
  CHECK_FALSE(out[0].second.allows("team-ab"));
  CHECK_FALSE(out[0].second.allows("team-b"));
  CHECK(out[0].second.describe() == "team-a,team-a-*");
  CHECK(parse_credentials("s3cret team-a\n", out) ==
        "line 1: expected sha256:<64 hex digits> (the SHA-256 of a token) and namespace patterns");
  CHECK(parse_credentials("\nsha256:" + std::string(64, 'g') + " x\n", out) == "line 2: the hash is not hexadecimal");
  CHECK(parse_credentials("sha256:" + kHash + "\n", out) ==
        "line 1: expected namespace patterns after the hash, e.g. team-a,team-a-*");
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
