#include "aggregator/audit_event_list.hpp"

#include <fstream>

#include <catch2/catch.hpp>

#include "aggregator/aggregator_config.hpp"
#include "aggregator/audit_dedupe.hpp"
#include "support/temp_dir.hpp"

using namespace logferry;
using namespace logferry::aggregator;

namespace {

constexpr std::string_view kEvent =
    R"({"level":"RequestResponse","auditID":"0f1e2d3c-aaaa-4bbb-8ccc-000000000001","stage":"ResponseComplete",)"
    R"("requestURI":"/apis/apps/v1/namespaces/shop/deployments/web","verb":"update",)"
    R"("user":{"username":"alice","groups":["dev","system:authenticated"]},"sourceIPs":["192.0.2.7","10.0.0.1"],)"
    R"("userAgent":"kubectl/v1.29.2","objectRef":{"resource":"deployments","namespace":"shop","name":"web",)"
    R"("apiGroup":"apps","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":409},)"
    R"("requestReceivedTimestamp":"2026-01-02T03:04:05.000001Z","stageTimestamp":"2026-01-02T03:04:05.250000Z"})";

std::string list_of(std::string_view items) {
  return std::string(R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[)") +
         std::string(items) + "]}";
}

std::string attribute(const v1::Entry& e, std::string_view key) {
  for (const auto& kv : e.attributes())
    if (kv.key() == key) return kv.value().has_int_value() ? std::to_string(kv.value().int_value()) : kv.value().string_value();
  return "<none>";
}

}  // namespace

TEST_CASE("audit EventList: each item through the k8s-audit parser", "[aggregator][audit]") {
  AuditEventListDecoder decoder;
  std::vector<AuditEvent> events;
  REQUIRE(decoder.decode(list_of(std::string(kEvent) + "," + std::string(kEvent)), events).empty());
  REQUIRE(events.size() == 2);
  const v1::Entry& e = events[0].entry;
  CHECK(events[0].key == "0f1e2d3c-aaaa-4bbb-8ccc-000000000001\nResponseComplete");
  CHECK(attribute(e, "k8s.audit.id") == "0f1e2d3c-aaaa-4bbb-8ccc-000000000001");
  CHECK(attribute(e, "k8s.audit.stage") == "ResponseComplete");
  CHECK(attribute(e, "k8s.audit.verb") == "update");
  CHECK(attribute(e, "k8s.audit.user.username") == "alice");
  CHECK(attribute(e, "k8s.audit.objectRef.resource") == "deployments");
  CHECK(attribute(e, "k8s.audit.objectRef.namespace") == "shop");
  CHECK(attribute(e, "k8s.audit.objectRef.apiGroup") == "apps");
  CHECK(attribute(e, "http.response.status_code") == "409");
  CHECK(attribute(e, "client.address") == "192.0.2.7");
  CHECK(e.time_unix_nano() == 1767323045250000000ull);
  CHECK(e.body().string_value().starts_with(R"({"level":"RequestResponse","auditID":)"));

  REQUIRE(decoder.decode(list_of(""), events).empty());
  CHECK(events.empty());
}

TEST_CASE("audit EventList: refusals say why and return nothing", "[aggregator][audit]") {
  AuditEventListDecoder decoder;
  std::vector<AuditEvent> events;
  const std::pair<std::string, std::string_view> cases[] = {
      {"{\"kind\":\"EventList\"", "not a JSON object"},
      {"[]", "not a JSON object"},
      {R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","items":[]})", "kind is not EventList"},
      {R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1beta1","items":[]})", "apiVersion is not audit.k8s.io/v1"},
      {R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":{}})", "items is not an array"},
      {list_of(std::string(kEvent) + R"(,{"auditID":"x"})"), "items[1] is not an audit event with auditID and stage"},
      {list_of(std::string(kEvent) + ",42"), "items[1] is not an audit event with auditID and stage"},
  };
  for (const auto& [body, why] : cases) {
    INFO(body);
    CHECK(decoder.decode(body, events).starts_with(why));
    CHECK(events.empty());
  }
}

TEST_CASE("audit dedupe: a bounded window, rebuilt from stored lines", "[aggregator][audit]") {
  AuditDedupe window(2);
  window.insert("a\nResponseComplete");
  window.insert("b\nResponseComplete");
  window.insert("a\nResponseComplete");  // already there: no change
  CHECK(window.contains("a\nResponseComplete"));
  window.insert("c\nResponseComplete");  // forgets the oldest
  CHECK_FALSE(window.contains("a\nResponseComplete"));
  CHECK(window.contains("b\nResponseComplete"));
  CHECK(window.contains("c\nResponseComplete"));
  CHECK(window.size() == 2);

  test::TempDir dir("logferry-audit-dedupe");
  auto line = [](int i) {
    return "{\"source_id\":\"k8s-audit-webhook\",\"offset\":" + std::to_string(i) +
           ",\"attributes\":{\"k8s.audit.id\":\"id-" + std::to_string(i) + "\",\"k8s.audit.stage\":\"ResponseComplete\"}}\n";
  };
  dir.write_file("segment-000001.ndjson", line(1) + line(2) + "not json\n");
  dir.write_file("segment-000002.ndjson", line(3) + line(4));
  AuditDedupe recovered(3);
  recovered.recover(dir.path());
  // The newest three keys: the window holds ids 2, 3 and 4.
  CHECK_FALSE(recovered.contains("id-1\nResponseComplete"));
  CHECK(recovered.contains("id-2\nResponseComplete"));
  CHECK(recovered.contains("id-4\nResponseComplete"));
  CHECK(recovered.size() == 3);
}

TEST_CASE("audit settings: listen address, path and size limit", "[aggregator][audit]") {
  test::TempDir dir("logferry-audit-config");
  const std::string data = dir.path().string();
  auto r = load_aggregator_config({{"LOGFERRY_AGGREGATOR_DATA_DIR", data}});
  REQUIRE(r.errors.empty());
  CHECK(r.config.audit_listen.empty());
  CHECK(r.config.audit_path == "/audit");
  CHECK(r.config.audit_max_bytes == 4u << 20);
  r = load_aggregator_config({{"LOGFERRY_AGGREGATOR_DATA_DIR", data},
                              {"LOGFERRY_AGGREGATOR_AUDIT_LISTEN", "0.0.0.0:8443"},
                              {"LOGFERRY_AGGREGATOR_AUDIT_INSECURE", "true"},
                              {"LOGFERRY_AGGREGATOR_AUDIT_PATH", "/k8s/audit"},
                              {"LOGFERRY_AGGREGATOR_AUDIT_MAX_BYTES", "1MiB"}});
  REQUIRE(r.errors.empty());
  CHECK(r.config.audit_listen == "0.0.0.0:8443");
  CHECK(r.config.audit_path == "/k8s/audit");
  CHECK(r.config.audit_max_bytes == 1u << 20);
  r = load_aggregator_config({{"LOGFERRY_AGGREGATOR_DATA_DIR", data},
                              {"LOGFERRY_AGGREGATOR_AUDIT_LISTEN", "apiserver:8443"},
                              {"LOGFERRY_AGGREGATOR_AUDIT_PATH", "audit"},
                              {"LOGFERRY_AGGREGATOR_AUDIT_MAX_BYTES", "12"}});
  REQUIRE(r.errors.size() == 3);
  bool listen_named = false;
  for (const auto& e : r.errors)
    listen_named |= e.message.starts_with("LOGFERRY_AGGREGATOR_AUDIT_LISTEN=\"apiserver:8443\": expected HOST:PORT");
  CHECK(listen_named);
}

TEST_CASE("audit settings: the webhook needs client authentication unless explicitly insecure", "[aggregator][audit]") {
  test::TempDir dir("logferry-audit-auth");
  const std::string data = dir.path().string();
  auto r = load_aggregator_config(
      {{"LOGFERRY_AGGREGATOR_DATA_DIR", data}, {"LOGFERRY_AGGREGATOR_AUDIT_LISTEN", "127.0.0.1:8443"}});
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].message ==
        "LOGFERRY_AGGREGATOR_AUDIT_LISTEN=\"127.0.0.1:8443\": the audit webhook needs client authentication: set "
        "LOGFERRY_AGGREGATOR_AUDIT_TOKEN_FILE (the API server's bearer token) or LOGFERRY_AGGREGATOR_TLS_CLIENT_CA "
        "(client certificates), or LOGFERRY_AGGREGATOR_AUDIT_INSECURE=true to accept anyone");

  const auto token = dir.path() / "token";
  r = load_aggregator_config({{"LOGFERRY_AGGREGATOR_DATA_DIR", data},
                              {"LOGFERRY_AGGREGATOR_AUDIT_LISTEN", "127.0.0.1:8443"},
                              {"LOGFERRY_AGGREGATOR_AUDIT_TOKEN_FILE", token.string()}});
  REQUIRE(r.errors.size() == 1);  // the file does not exist
  CHECK(r.errors[0].message.find("expected a readable file holding a non-empty token") != std::string::npos);
  std::ofstream(token) << "t0ken\n";
  r = load_aggregator_config({{"LOGFERRY_AGGREGATOR_DATA_DIR", data},
                              {"LOGFERRY_AGGREGATOR_AUDIT_LISTEN", "127.0.0.1:8443"},
                              {"LOGFERRY_AGGREGATOR_AUDIT_TOKEN_FILE", token.string()}});
  CHECK(r.errors.empty());
  CHECK(r.config.audit_token_file == token.string());
}
