#include "sidecar/forward/http_response.hpp"

#include <filesystem>

#include <filesystem>

#include <catch2/catch.hpp>

#include "sidecar/config/config.hpp"
#include "sidecar/parse/registry.hpp"

using namespace logferry;
using namespace std::chrono_literals;

TEST_CASE("Retry-After: seconds, HTTP dates, garbage", "[output]") {
  const auto now = std::chrono::system_clock::from_time_t(1445412470);  // Wed, 21 Oct 2015 07:27:50 GMT
  CHECK(parse_retry_after("120", now) == std::optional(std::chrono::milliseconds(120s)));
  CHECK(parse_retry_after(" 0 ", now) == std::optional(std::chrono::milliseconds(0)));
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now) == std::optional(std::chrono::milliseconds(10s)));
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now) == std::optional(std::chrono::milliseconds(0)));
  CHECK(parse_retry_after("99999999", now) == std::optional(kMaxRetryAfter));
  CHECK_FALSE(parse_retry_after("soon", now));
  CHECK_FALSE(parse_retry_after("", now));
  CHECK_FALSE(parse_retry_after("-5", now));
}

TEST_CASE("HTTP answers map to accepted, retry or rejected", "[output]") {
  struct Case {
    unsigned status;
    Outcome outcome;
  };
  for (const Case c : {Case{200, Outcome::accepted}, {204, Outcome::accepted}, {400, Outcome::rejected},
                       {401, Outcome::rejected}, {404, Outcome::rejected}, {413, Outcome::rejected},
                       {429, Outcome::retry}, {500, Outcome::retry}, {502, Outcome::retry}, {503, Outcome::retry},
                       {504, Outcome::retry}, {307, Outcome::retry}}) {
    INFO(c.status);
    const auto r = classify_http_response(7, c.status, "", "details\n");
    CHECK(r.sequence == 7);
    CHECK(r.outcome == c.outcome);
    if (c.outcome != Outcome::accepted) CHECK(r.error == fmt::format("HTTP {}: details", c.status));
  }
  CHECK(classify_http_response(1, 429, "3", "").retry_after == 3s);
  CHECK(classify_http_response(1, 503, "later", "").retry_after == 0s);
}

TEST_CASE("LOGFERRY_OUTPUT accepts the HTTP schemes with default ports and paths", "[output]") {
  auto one = [](std::string_view text) { return parse_outputs(text).value().at(0); };
  auto e = one("otlp+http://collector:4318");
  CHECK(e.scheme == "otlp+http");
  CHECK(e.host == "collector");
  CHECK(e.port == 4318);
  CHECK(e.path.empty());
  e = one("otlp+https://otel.example.com/v1/logs");
  CHECK(e.port == 443);
  CHECK(e.path == "/v1/logs");
  e = one("loki+http://loki.monitoring");
  CHECK(e.port == 3100);
  e = one("loki+https://[::1]:8443/loki/api/v1/push");
  CHECK(e.host == "::1");
  CHECK(e.port == 8443);
  CHECK(e.path == "/loki/api/v1/push");
  CHECK(one("otlp+http://collector").port == 4318);
  CHECK(parse_outputs("otlp+http://a:4318,otlp+http://b:4318")->size() == 2);
  CHECK_FALSE(parse_outputs("otlp+http://a:4318,tcp://b:7070"));  // one kind per configuration
  CHECK_FALSE(parse_outputs("otlp+http://a:4318,loki+http://b"));
  CHECK_FALSE(parse_outputs("otlp+grpc://a:4317"));
  CHECK_FALSE(parse_outputs("loki+http://"));
  CHECK_FALSE(parse_outputs("loki+http://:3100"));
}

TEST_CASE("HTTP output settings: headers are secret, bad values are named", "[output]") {
  Environment env{{"LOGFERRY_OUTPUT", "loki+http://127.0.0.1:3100"},
                  {"LOGFERRY_FILES", "/tmp/none/*.log"},
                  {"LOGFERRY_CHECKPOINT_DIR", (std::filesystem::temp_directory_path() / "logferry-output-cfg").string()},
                  {"LOGFERRY_OTLP_HEADERS", "broken"},
                  {"LOGFERRY_OTLP_COMPRESSION", "zstd"},
                  {"LOGFERRY_LOKI_LABELS", "namespace,k8s.pod.name"}};
  auto r = load_config(env, parser_catalog());
  std::vector<std::string> m;
  for (const auto& e : r.errors) m.push_back(e.message);
  CHECK(m == std::vector<std::string>{
                 "LOGFERRY_OTLP_HEADERS=\"<redacted>\": expected comma-separated Name=value pairs, e.g. "
                 "Authorization=Bearer abc",
                 "LOGFERRY_OTLP_COMPRESSION=\"zstd\": expected none or gzip",
                 "LOGFERRY_LOKI_LABELS=\"namespace,k8s.pod.name\": \"k8s.pod.name\" is not a label: expected names "
                 "matching [a-zA-Z_][a-zA-Z0-9_]* such as namespace,pod,container,node,filename,service_name, or "
                 "NAME=RESOURCE_KEY",
             });
  env["LOGFERRY_OTLP_HEADERS"] = "Authorization=Bearer abc";
  env["LOGFERRY_OTLP_COMPRESSION"] = "gzip";
  env["LOGFERRY_LOKI_LABELS"] = "namespace,app=app.kubernetes.io/name";
  env["LOGFERRY_LOKI_TENANT"] = "team-a";
  env["LOGFERRY_LOKI_STRUCTURED_METADATA"] = "true";
  env["LOGFERRY_SERVICE_NAME"] = "checkout";
  r = load_config(env, parser_catalog());
  REQUIRE(r.errors.empty());
  CHECK(r.config.output.http_headers == Labels{{"Authorization", "Bearer abc"}});
  CHECK(r.config.output.otlp_gzip);
  CHECK(r.config.output.loki_labels == std::vector<std::string>{"namespace", "app=app.kubernetes.io/name"});
  CHECK(r.config.output.loki_tenant == "team-a");
  CHECK(r.config.output.loki_structured_metadata);
  CHECK(r.config.output.service_name == "checkout");
  const std::string effective = render_effective<Config>(config_table(), env);
  CHECK(effective.find("Bearer abc") == std::string::npos);
}
