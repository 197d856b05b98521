// The aggregator's Kubernetes audit webhook receiver end to end: real-shaped
// audit.k8s.io/v1 EventLists posted over mutual TLS to the real binary; every
// valid event stored once with the k8s-audit attributes, a re-posted list
// stored no second time (also after a restart), malformed lists refused with
// 400 and oversized ones with 413, nothing of either stored.
#include "support/certs.hpp"

#include <catch2/catch.hpp>

#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>

#include "sidecar/parse/json_reader.hpp"
#include "support/http_client.hpp"
#include "support/logferry_processes.hpp"
#include "support/store_reader.hpp"
#include "support/temp_dir.hpp"

using namespace logferry::test;
namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

namespace {

struct AuditSpec {
  std::string id;
  std::string stage = "ResponseComplete";
  std::string verb;
  std::string user;
  std::string resource;
  std::string ns;
  std::string name;
  int code = 200;
  std::string stage_time;  // RFC 3339 with microseconds, as the API server writes it
};

// One audit.k8s.io/v1 Event as the API server serializes it.
std::string event_json(const AuditSpec& e) {
  const std::string uri = e.ns.empty() ? fmt::format("/api/v1/{}/{}", e.resource, e.name)
                                       : fmt::format("/api/v1/namespaces/{}/{}/{}", e.ns, e.resource, e.name);
  return fmt::format(
      R"({{"level":"Metadata","auditID":"{id}","stage":"{stage}","requestURI":"{uri}","verb":"{verb}",)"
      R"("user":{{"username":"{user}","uid":"5d1c2f10-1b3e-4c2a-9f57-2a8f6f1d0e11","groups":["system:authenticated"]}},)"
      R"("sourceIPs":["10.0.0.12"],"userAgent":"kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819",)"
      R"("objectRef":{{"resource":"{resource}","namespace":"{ns}","name":"{name}","apiVersion":"v1"}},)"
      R"("responseStatus":{{"metadata":{{}},"code":{code}}},"requestReceivedTimestamp":"2026-03-04T05:06:07.000100Z",)"
      R"("stageTimestamp":"{time}","annotations":{{"authorization.k8s.io/decision":"allow",)"
      R"("authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"admin\""}}}})",
      fmt::arg("id", e.id), fmt::arg("stage", e.stage), fmt::arg("uri", uri), fmt::arg("verb", e.verb),
      fmt::arg("user", e.user), fmt::arg("resource", e.resource), fmt::arg("ns", e.ns), fmt::arg("name", e.name),
      fmt::arg("code", e.code), fmt::arg("time", e.stage_time));
}

std::string event_list(const std::vector<AuditSpec>& events) {
  std::string items;
  for (const auto& e : events) items += (items.empty() ? "" : ",") + event_json(e);
  return R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[)" + items + "]}";
}

// "2026-03-04T05:06:MM.uuuuuuZ" as Unix nanoseconds, computed independently of the parser.
uint64_t unix_nanos(int minute, int second, int micros) {
  std::tm tm{};
  tm.tm_year = 2026 - 1900;
  tm.tm_mon = 2;
  tm.tm_mday = 4;
  tm.tm_hour = 5;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<uint64_t>(timegm(&tm)) * 1000000000ull + static_cast<uint64_t>(micros) * 1000ull;
}

struct Reply {
  unsigned status = 0;  // 0: no HTTP answer (see error)
  std::string body;
  std::string error;
};

// POSTs `body` over TLS (with the client certificate unless `with_client_cert`
// is false), one request per connection; everything within 15 seconds.
Reply post(uint16_t port, const TestCerts& certs, const std::string& body, bool with_client_cert = true,
           const std::string& target = "/audit") {
  asio::io_context io;
  ssl::context ctx(ssl::context::tls_client);
  ctx.load_verify_file(certs.ca.string());
  ctx.set_verify_mode(ssl::verify_peer);
  if (with_client_cert) {
    ctx.use_certificate_chain_file(certs.client_cert.string());
    ctx.use_private_key_file(certs.client_key.string(), ssl::context::pem);
  }
  Reply reply;
  beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    auto& tcp = beast::get_lowest_layer(stream);
    tcp.expires_after(std::chrono::seconds(15));
    auto [cec] = co_await tcp.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                            asio::as_tuple(asio::use_awaitable));
    if (cec) { reply.error = "connect: " + cec.message(); co_return; }
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
    if (hec) { reply.error = "handshake: " + hec.message(); co_return; }
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "kube-apiserver-admission");
    req.body() = body;
    req.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, req, asio::as_tuple(asio::use_awaitable));
    // A refused body may end the write early; the answer is still there to read.
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    auto [rec, rn] = co_await http::async_read(stream, buffer, res, asio::as_tuple(asio::use_awaitable));
    if (rec) { reply.error = "read: " + rec.message() + (wec ? "; write: " + wec.message() : ""); co_return; }
    reply.status = res.result_int();
    reply.body = res.body();
  }, asio::detached);
  io.run_for(std::chrono::seconds(20));
  if (reply.status == 0 && reply.error.empty()) reply.error = "no answer in time";
  return reply;
}

// A stored audit entry, read back from the segment files.
struct StoredAudit {
  std::map<std::string, std::string> strings;  // string attributes
  int64_t code = -1;                           // http.response.status_code
  uint64_t time = 0;
  std::string body;
};

std::vector<StoredAudit> read_audit_store(const fs::path& data_dir) {
  std::vector<StoredAudit> out;
  std::vector<fs::path> segments;
  const fs::path dir = data_dir / "_audit" / "kube-apiserver";
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(dir, ec)) segments.push_back(f.path());
  std::sort(segments.begin(), segments.end());
  logferry::JsonReader reader;
  for (const auto& path : segments) {
    std::string text = read_file(path);
    size_t pos = 0;
    while (pos < text.size()) {
      const size_t nl = text.find('\n', pos);
      const std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      pos = nl == std::string::npos ? text.size() : nl + 1;
      simdjson::dom::object o;
      if (reader.parse_object(line, o) != simdjson::SUCCESS) {
        FAIL("unreadable stored line: " << line);
      }
      StoredAudit s;
      simdjson::dom::object attrs;
      REQUIRE(o["attributes"].get_object().get(attrs) == simdjson::SUCCESS);
      for (auto field : attrs) {
        std::string_view v;
        if (field.value.get_string().get(v) == simdjson::SUCCESS) s.strings[std::string(field.key)] = std::string(v);
      }
      int64_t code = -1;
      if (attrs["http.response.status_code"].get_int64().get(code) == simdjson::SUCCESS) s.code = code;
      uint64_t t = 0;
      if (o["time_unix_nano"].get_uint64().get(t) == simdjson::SUCCESS) s.time = t;
      std::string_view body;
      if (o["body"].get_string().get(body) == simdjson::SUCCESS) s.body = std::string(body);
      out.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("audit webhook: EventLists over mutual TLS stored once with their attributes", "[e2e][audit]") {
  TempDir tmp("logferry-audit");
  const TestCerts certs = make_test_certs(tmp / "certs");
  const fs::path store = tmp / "store";
  const ProcessEnv env{{"LOGFERRY_AGGREGATOR_TLS_CERT", certs.server_cert.string()},
                       {"LOGFERRY_AGGREGATOR_TLS_KEY", certs.server_key.string()},
                       {"LOGFERRY_AGGREGATOR_TLS_CLIENT_CA", certs.ca.string()},
                       {"LOGFERRY_AGGREGATOR_AUDIT_LISTEN", "127.0.0.1:0"},
                       {"LOGFERRY_AGGREGATOR_AUDIT_MAX_BYTES", "64KiB"},
                       {"LOGFERRY_AGGREGATOR_HTTP_ADDR", "127.0.0.1:0"}};
  auto aggregator = std::make_unique<Aggregator>(store, env);
  uint16_t audit_port = aggregator->audit_port();
  const uint16_t http_port = aggregator->http_port();

  const std::vector<AuditSpec> first{
      {"8b6f3c1e-0d0a-4a53-9f2e-6f1b9a7c0001", "ResponseComplete", "get", "alice@example.com", "pods", "shop",
       "web-0", 200, "2026-03-04T05:06:07.123456Z"},
      {"8b6f3c1e-0d0a-4a53-9f2e-6f1b9a7c0002", "ResponseComplete", "delete",
       "system:serviceaccount:kube-system:namespace-controller", "configmaps", "shop", "settings", 404,
       "2026-03-04T05:06:08.000001Z"},
      {"8b6f3c1e-0d0a-4a53-9f2e-6f1b9a7c0003", "ResponseComplete", "list", "system:kube-scheduler", "nodes", "", "",
       200, "2026-03-04T05:06:09.500000Z"},
  };
  // One event of the first list again, the same request at another stage, and two new ones.
  const std::vector<AuditSpec> second{
      first[1],
      {"8b6f3c1e-0d0a-4a53-9f2e-6f1b9a7c0001", "RequestReceived", "get", "alice@example.com", "pods", "shop", "web-0",
       200, "2026-03-04T05:06:07.000100Z"},
      {"8b6f3c1e-0d0a-4a53-9f2e-6f1b9a7c0004", "ResponseComplete", "create", "bob", "secrets", "payments", "db-creds",
       403, "2026-03-04T05:07:00.000000Z"},
      {"8b6f3c1e-0d0a-4a53-9f2e-6f1b9a7c0005", "ResponseComplete", "patch", "system:node:worker-1", "pods/status",
       "kube-system", "coredns-7db6d8ff4d-abcde", 200, "2026-03-04T05:07:01.999999Z"},
  };
  const std::string first_body = event_list(first);

  const Reply r1 = post(audit_port, certs, first_body);
  INFO(r1.error << r1.body);
  REQUIRE(r1.status == 200);
  const Reply again = post(audit_port, certs, first_body);  // a retry of the same list
  INFO(again.error << again.body);
  REQUIRE(again.status == 200);
  const Reply r2 = post(audit_port, certs, event_list(second));
  INFO(r2.error << r2.body);
  REQUIRE(r2.status == 200);

  // Malformed or not an EventList: 400, nothing of it stored.
  const AuditSpec stray{"8b6f3c1e-0d0a-4a53-9f2e-6f1b9a7c0099", "ResponseComplete", "get", "mallory", "pods", "x",
                        "y", 200, "2026-03-04T05:08:00.000000Z"};
  const std::string whole = event_list({stray});
  for (const std::string& bad : {whole.substr(0, whole.size() - 7),                     // truncated JSON
                                  std::string("{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[]}"),
                                  std::string("{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"items\":[")
                                      + event_json(stray) + ",{\"verb\":\"get\"}]}",  // an item without auditID
                                  std::string("not json at all")}) {
    const Reply r = post(audit_port, certs, bad);
    INFO(r.error << " for " << bad);
    CHECK(r.status == 400);
  }
  // Over LOGFERRY_AGGREGATOR_AUDIT_MAX_BYTES (64 KiB): 413, nothing stored.
  std::vector<AuditSpec> many;
  for (int i = 0; i < 200; ++i) {
    AuditSpec e = stray;
    e.id = fmt::format("0c0ffee0-0000-4000-8000-{:012}", i);
    many.push_back(e);
  }
  const std::string big = event_list(many);
  REQUIRE(big.size() > 64 * 1024);
  const Reply r413 = post(audit_port, certs, big);
  INFO(r413.error << r413.body);
  CHECK(r413.status == 413);
  // Without a client certificate the TLS handshake fails: no HTTP answer at all.
  const Reply anonymous = post(audit_port, certs, first_body, false);
  CHECK(anonymous.status == 0);
  // Wrong path.
  CHECK(post(audit_port, certs, first_body, true, "/not-audit").status == 404);

  auto check_store = [&] {
    const auto stored = read_audit_store(store);
    REQUIRE(stored.size() == 6);
    std::map<std::string, const StoredAudit*> by_key;
    for (const auto& s : stored) {
      const std::string key = s.strings.at("k8s.audit.id") + "/" + s.strings.at("k8s.audit.stage");
      CHECK(by_key.emplace(key, &s).second);  // once
    }
    std::vector<AuditSpec> expected = first;
    expected.insert(expected.end(), second.begin() + 1, second.end());
    for (const auto& e : expected) {
      const auto it = by_key.find(e.id + "/" + e.stage);
      INFO(e.id << " " << e.stage);
      REQUIRE(it != by_key.end());
      const StoredAudit& s = *it->second;
      CHECK(s.strings.at("k8s.audit.verb") == e.verb);
      CHECK(s.strings.at("k8s.audit.user.username") == e.user);
      CHECK(s.strings.at("k8s.audit.objectRef.resource") == e.resource);
      if (!e.ns.empty()) CHECK(s.strings.at("k8s.audit.objectRef.namespace") == e.ns);
      CHECK(s.strings.at("k8s.audit.level") == "Metadata");
      CHECK(s.strings.at("client.address") == "10.0.0.12");
      CHECK(s.code == e.code);
      const int minute = std::stoi(e.stage_time.substr(14, 2));
      const int sec = std::stoi(e.stage_time.substr(17, 2));
      const int micros = std::stoi(e.stage_time.substr(20, 6));
      CHECK(s.time == unix_nanos(minute, sec, micros));
      CHECK(s.body.find("\"auditID\":\"" + e.id + "\"") != std::string::npos);
    }
    // Nothing else anywhere in the store (no refused list's events).
    CHECK(read_store(store).size() == 6);
  };
  check_store();

  const auto metrics = http_get("127.0.0.1", http_port, "/metrics");
  REQUIRE(metrics);
  CHECK(prometheus_sample(metrics->body, "logferry_aggregator_audit_events_stored_total") == 6);
  CHECK(prometheus_sample(metrics->body, "logferry_aggregator_audit_events_duplicate_total") == 4);
  CHECK(prometheus_sample(metrics->body, "logferry_aggregator_audit_requests_malformed_total") == 4);
  CHECK(prometheus_sample(metrics->body, "logferry_aggregator_audit_requests_oversized_total") == 1);
  CHECK(prometheus_sample(metrics->body, "logferry_aggregator_audit_requests_total") == 9);

  // After a restart the dedupe window is rebuilt from the store: a late retry stores nothing.
  CHECK(aggregator->stop() == 0);
  aggregator = std::make_unique<Aggregator>(store, env);
  audit_port = aggregator->audit_port();
  const Reply late = post(audit_port, certs, event_list(second));
  INFO(late.error << late.body);
  REQUIRE(late.status == 200);
  const AuditSpec fresh{"8b6f3c1e-0d0a-4a53-9f2e-6f1b9a7c0006", "ResponseComplete", "watch", "carol", "services",
                        "shop", "web", 200, "2026-03-04T05:09:10.000000Z"};
  REQUIRE(post(audit_port, certs, event_list({fresh})).status == 200);
  const auto stored = read_audit_store(store);
  CHECK(stored.size() == 7);
  CHECK(read_store(store).size() == 7);
  CHECK(aggregator->stop() == 0);
}

namespace {

// A plain-HTTP POST of `body` to the audit path, with `authorization` when not empty.
std::optional<HttpReply> post_plain(uint16_t port, const std::string& body, const std::string& authorization = {}) {
  std::string raw = "POST /audit HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\n";
  if (!authorization.empty()) raw += "Authorization: " + authorization + "\r\n";
  raw += fmt::format("Content-Length: {}\r\n\r\n{}", body.size(), body);
  return parse_http_reply(http_exchange("127.0.0.1", port, raw, 10s));
}

const AuditSpec kForged{"f0f0f0f0-0000-4000-8000-000000000001", "ResponseComplete", "delete",
                        "system:admin-forged", "secrets", "kube-system", "all", 200, "2026-03-04T05:09:00.000000Z"};

}  // namespace

TEST_CASE("audit webhook: without client authentication it does not start", "[e2e][audit][hostile]") {
  TempDir tmp("logferry-audit-anon");
  ProcessEnv env = basic_environment();
  env["LOGFERRY_AGGREGATOR_DATA_DIR"] = (tmp / "store").string();
  env["LOGFERRY_AGGREGATOR_LISTEN"] = "127.0.0.1:0";
  env["LOGFERRY_AGGREGATOR_AUDIT_LISTEN"] = "127.0.0.1:0";
  const RunResult r = run_process({LOGFERRY_AGGREGATOR_BIN}, env, 20s);
  REQUIRE(r.status);
  CHECK(r.status->code == 2);
  CHECK(r.err.find("the audit webhook needs client authentication") != std::string::npos);

  // Explicitly insecure: it starts, says so, and takes anyone's events.
  Aggregator aggregator(tmp / "store", {{"LOGFERRY_AGGREGATOR_AUDIT_LISTEN", "127.0.0.1:0"},
                                        {"LOGFERRY_AGGREGATOR_AUDIT_INSECURE", "true"}});
  const uint16_t port = aggregator.audit_port();
  CHECK(aggregator.process().wait_for_stderr("audit webhook without client authentication", 10s));
  const auto reply = post_plain(port, event_list({kForged}));
  REQUIRE(reply);
  CHECK(reply->status == 200);
}

TEST_CASE("audit webhook: with a token file an anonymous forged event is refused with 401", "[e2e][audit][hostile]") {
  TempDir tmp("logferry-audit-token");
  const fs::path token = tmp / "audit-token";
  write_file(token, "first-token\n");
  const fs::path store = tmp / "store";
  Aggregator aggregator(store, {{"LOGFERRY_AGGREGATOR_AUDIT_LISTEN", "127.0.0.1:0"},
                                {"LOGFERRY_AGGREGATOR_AUDIT_TOKEN_FILE", token.string()}});
  const uint16_t port = aggregator.audit_port();

  for (const std::string& auth : {std::string(), std::string("Bearer wrong-token"), std::string("Basic Zmlyc3Q=")}) {
    const auto reply = post_plain(port, event_list({kForged}), auth);
    INFO(auth);
    REQUIRE(reply);
    CHECK(reply->status == 401);
    CHECK(reply->headers.count("www-authenticate") == 1);
  }
  CHECK(read_audit_store(store).empty());

  AuditSpec real = kForged;
  real.id = "f0f0f0f0-0000-4000-8000-000000000002";
  real.user = "alice";
  auto ok = post_plain(port, event_list({real}), "Bearer first-token");
  REQUIRE(ok);
  CHECK(ok->status == 200);

  // A rotated Secret: the file is read again on the next request.
  write_file(tmp / "audit-token.new", "second-token\n");
  fs::rename(tmp / "audit-token.new", token);
  const auto old = post_plain(port, event_list({kForged}), "Bearer first-token");
  REQUIRE(old);
  CHECK(old->status == 401);
  real.id = "f0f0f0f0-0000-4000-8000-000000000003";
  ok = post_plain(port, event_list({real}), "Bearer second-token");
  REQUIRE(ok);
  CHECK(ok->status == 200);

  const auto stored = read_audit_store(store);
  CHECK(stored.size() == 2);
  for (const auto& s : stored) CHECK(s.body.find("admin-forged") == std::string::npos);
}
