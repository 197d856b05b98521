#include "aggregator/store_path.hpp"

#include <set>
#include <string>

#include <catch2/catch.hpp>

using namespace logferry::aggregator;

TEST_CASE("names valid in Kubernetes map to the directory names of earlier versions", "[aggregator]") {
  // Earlier stores kept [A-Za-z0-9._-] and cut at 128 bytes: a DNS-1123 name up
  // to 128 bytes is its own directory name then and now.
  for (const std::string name : {"default", "kube-system", "web-0", "web-7d9f8b6c5d-x2x4q", "a.b-c", "0"}) {
    CHECK(escape_path_component(name) == name);
  }
  const std::string longest_pod(253, 'a');
  CHECK(escape_path_component(longest_pod) == longest_pod);
  CHECK(escape_path_component("") == "_unknown");
}

TEST_CASE("distinct label values never share a directory name, and names read back", "[aggregator]") {
  const std::string shared(128, 'p');
  const std::vector<std::string> values{"a/b", std::string("a\0b", 3), "a_b", "a b", "a%2Fb", "a%b", "_unknown",
                                        "", ".", "..", "%2E", "_audit", "caf\xe9", shared + "-one", shared + "-two",
                                        std::string(300, '/'), std::string(300, '/') + "x", std::string(254, 'a')};
  std::set<std::string> names;
  for (const auto& v : values) {
    const std::string name = escape_path_component(v);
    INFO(name);
    CHECK(name.size() <= kMaxPathComponentBytes);
    CHECK(name.find('/') == std::string::npos);
    CHECK(name.find('\0') == std::string::npos);
    CHECK(name != ".");
    CHECK(name != "..");
    CHECK(names.insert(name).second);
    const bool cut = name.find('+') != std::string::npos;
    if (!cut) CHECK(unescape_path_component(name) == v);
    else CHECK(!unescape_path_component(name));
  }
}

TEST_CASE("no label value escapes to a name starting with '_' but the unset one", "[aggregator]") {
  CHECK(escape_path_component("_audit") == "%5Faudit");
  CHECK(escape_path_component("_unknown") == "%5Funknown");
  CHECK(pod_dir_key("_audit", "kube-apiserver") != "_audit/kube-apiserver");
  CHECK(pod_dir_key("prod", "web-0") == "prod/web-0");
}

TEST_CASE("names escape_path_component does not write are not read back", "[aggregator]") {
  CHECK(!unescape_path_component("a_b"));
  CHECK(!unescape_path_component("%2f"));
  CHECK(!unescape_path_component("%2"));
  CHECK(!unescape_path_component("%41"));  // 'A' is written as itself
  CHECK(unescape_path_component("%2E") == ".");
}
