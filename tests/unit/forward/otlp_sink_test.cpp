// OTLP/HTTP output against an in-test receiver that decodes the requests with
// the protobuf definitions written from the OTLP specification.
#include "sidecar/forward/otlp_encoder.hpp"

#include <catch2/catch.hpp>

#include "unit/forward/output_harness.hpp"

using namespace logferry;
using namespace logferry::test;
namespace col = opentelemetry::proto::collector::logs::v1;
namespace cmn = opentelemetry::proto::common::v1;

namespace {

const cmn::AnyValue* attr(const google::protobuf::RepeatedPtrField<cmn::KeyValue>& kvs, const std::string& key) {
  for (const auto& kv : kvs)
    if (kv.key() == key) return &kv.value();
  return nullptr;
}

// Every kind of field an entry can carry.
v1::Batch rich_batch() {
  v1::Batch b;
  for (auto [k, v] : {std::pair{"k8s.pod.name", "web-0"}, {"k8s.namespace.name", "shop"}, {"k8s.node.name", "node-1"},
                      {"k8s.container.name", "app"}, {"team", "payments"}}) {
    auto* kv = b.add_resource();
    kv->set_key(k);
    kv->mutable_value()->set_string_value(v);
  }
  auto* s = b.add_sources();
  s->set_id("file:1:2:a");
  s->set_path("/var/log/app/a.log");
  s = b.add_sources();
  s->set_id("file:1:3:b");
  s->set_path("/var/log/app/b.json");

  auto* e = b.add_entries();
  e->set_time_unix_nano(1'700'000'000'123'456'789ull);
  e->set_observed_time_unix_nano(1'700'000'000'200'000'000ull);
  e->set_severity_number(17);
  e->set_severity_text("ERROR");
  e->mutable_body()->set_string_value("payment failed");
  e->set_flags(1);
  e->set_trace_id(std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16));
  e->set_span_id(std::string("\xa1\xa2\xa3\xa4\xa5\xa6\xa7\x00", 8));
  e->set_source_index(0);
  e->set_offset(42);
  auto add = [&](const char* key) {
    auto* kv = e->add_attributes();
    kv->set_key(key);
    return kv->mutable_value();
  };
  add("user")->set_string_value("ann");
  add("retry")->set_bool_value(true);
  add("attempt")->set_int_value(-3);
  add("ratio")->set_double_value(0.25);
  add("raw")->set_bytes_value(std::string("\x00\xff", 2));
  auto* arr = add("tags")->mutable_array_value();
  arr->add_values()->set_string_value("x");
  arr->add_values()->set_int_value(7);
  auto* kvl = add("http")->mutable_kvlist_value()->add_values();
  kvl->set_key("status");
  kvl->mutable_value()->set_int_value(502);

  auto* e2 = b.add_entries();
  e2->set_observed_time_unix_nano(1'700'000'000'300'000'000ull);
  auto* body = e2->mutable_body()->mutable_kvlist_value()->add_values();
  body->set_key("msg");
  body->mutable_value()->set_string_value("structured");
  e2->set_source_index(1);
  e2->set_offset(7);
  return b;
}

col::ExportLogsServiceRequest decode(const ReceivedRequest& r) {
  col::ExportLogsServiceRequest req;
  REQUIRE(req.ParseFromString(r.decoded));
  return req;
}

void check_rich_request(const col::ExportLogsServiceRequest& req) {
  REQUIRE(req.resource_logs_size() == 1);
  const auto& rl = req.resource_logs(0);
  const auto& res = rl.resource().attributes();
  CHECK(attr(res, "k8s.pod.name")->string_value() == "web-0");
  CHECK(attr(res, "k8s.namespace.name")->string_value() == "shop");
  CHECK(attr(res, "k8s.node.name")->string_value() == "node-1");
  CHECK(attr(res, "k8s.container.name")->string_value() == "app");
  CHECK(attr(res, "team")->string_value() == "payments");
  CHECK(attr(res, "service.name")->string_value() == "checkout");
  REQUIRE(rl.scope_logs_size() == 1);
  CHECK(rl.scope_logs(0).scope().name() == "logferry");
  CHECK(rl.scope_logs(0).scope().version() == LOGFERRY_VERSION);
  REQUIRE(rl.scope_logs(0).log_records_size() == 2);

  const auto& r = rl.scope_logs(0).log_records(0);
  CHECK(r.time_unix_nano() == 1'700'000'000'123'456'789ull);
  CHECK(r.observed_time_unix_nano() == 1'700'000'000'200'000'000ull);
  CHECK(r.severity_number() == opentelemetry::proto::logs::v1::SEVERITY_NUMBER_ERROR);
  CHECK(r.severity_text() == "ERROR");
  CHECK(r.body().string_value() == "payment failed");
  CHECK(r.flags() == 1u);
  CHECK(r.trace_id() == std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16));
  CHECK(r.span_id() == std::string("\xa1\xa2\xa3\xa4\xa5\xa6\xa7\x00", 8));
  CHECK(attr(r.attributes(), "user")->string_value() == "ann");
  CHECK(attr(r.attributes(), "retry")->bool_value() == true);
  CHECK(attr(r.attributes(), "attempt")->int_value() == -3);
  CHECK(attr(r.attributes(), "ratio")->double_value() == 0.25);
  CHECK(attr(r.attributes(), "raw")->bytes_value() == std::string("\x00\xff", 2));
  const auto& tags = attr(r.attributes(), "tags")->array_value();
  REQUIRE(tags.values_size() == 2);
  CHECK(tags.values(0).string_value() == "x");
  CHECK(tags.values(1).int_value() == 7);
  CHECK(attr(attr(r.attributes(), "http")->kvlist_value().values(), "status")->int_value() == 502);
  CHECK(attr(r.attributes(), "log.file.path")->string_value() == "/var/log/app/a.log");
  // logferry's idempotency key stays inside logferry.
  CHECK(attr(r.attributes(), "logferry.offset") == nullptr);

  const auto& r2 = rl.scope_logs(0).log_records(1);
  CHECK(r2.time_unix_nano() == 0);
  CHECK(r2.observed_time_unix_nano() == 1'700'000'000'300'000'000ull);
  CHECK(r2.severity_number() == 0);
  CHECK(attr(r2.body().kvlist_value().values(), "msg")->string_value() == "structured");
  CHECK(attr(r2.attributes(), "log.file.path")->string_value() == "/var/log/app/b.json");
}

}  // namespace

TEST_CASE("OTLP: every field of an entry arrives in the ExportLogsServiceRequest", "[output]") {
  TestReceiver rx;
  OutputHarness h("otlp+http://127.0.0.1:" + std::to_string(rx.port()), [](Config& c) {
    c.output.service_name = "checkout";
    c.output.http_headers = {{"X-Api-Key", "s3cret"}};
  });
  h.push(rich_batch(), 100);
  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 100; }));
  const auto reqs = rx.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].method == "POST");
  CHECK(reqs[0].target == "/v1/logs");
  CHECK(reqs[0].headers.at("content-type") == "application/x-protobuf");
  CHECK(reqs[0].headers.at("x-api-key") == "s3cret");
  CHECK(reqs[0].headers.count("content-encoding") == 0);
  check_rich_request(decode(reqs[0]));
  CHECK(h.metrics.batches_acked == 1);
  CHECK(h.metrics.entries_acked == 2);
}

TEST_CASE("OTLP: gzip bodies, a custom path and keep-alive", "[output]") {
  TestReceiver rx;
  OutputHarness h("otlp+http://127.0.0.1:" + std::to_string(rx.port()) + "/custom/logs", [](Config& c) {
    c.output.service_name = "checkout";
    c.output.otlp_gzip = true;
  });
  h.push(rich_batch(), 100);
  h.push(rich_batch(), 200);
  h.push(rich_batch(), 300);
  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 300; }));
  const auto reqs = rx.requests();
  REQUIRE(reqs.size() == 3);
  for (const auto& r : reqs) {
    CHECK(r.target == "/custom/logs");
    CHECK(r.headers.at("content-encoding") == "gzip");
    check_rich_request(decode(r));
  }
  CHECK(rx.connections() == 1);  // one keep-alive connection for all requests
}

TEST_CASE("OTLP: service.name falls back to a label, then to the container name", "[output]") {
  v1::Batch b = rich_batch();
  col::ExportLogsServiceRequest req;
  batch_to_otlp(b, "", req);
  CHECK(attr(req.resource_logs(0).resource().attributes(), "service.name")->string_value() == "app");
  auto* kv = b.add_resource();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("from-label");
  req.Clear();
  batch_to_otlp(b, "", req);
  CHECK(attr(req.resource_logs(0).resource().attributes(), "service.name")->string_value() == "from-label");
}

TEST_CASE("OTLP: a partial success is accepted and counted, not retried", "[output]") {
  TestReceiver rx;
  col::ExportLogsServiceResponse partial;
  partial.mutable_partial_success()->set_rejected_log_records(3);
  partial.mutable_partial_success()->set_error_message("3 records too large");
  rx.script({{200, {{"Content-Type", "application/x-protobuf"}}, partial.SerializeAsString()}});
  OutputHarness h("otlp+http://127.0.0.1:" + std::to_string(rx.port()));
  h.push(plain_batch("p", 10), 100);
  h.push(plain_batch("q", 10), 200);
  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 200; }));
  h.run_for(100ms);
  CHECK(rx.request_count() == 2);
  CHECK(h.metrics.entries_rejected_partial == 3);
  CHECK(h.metrics.batches_acked == 2);
  CHECK(h.metrics.batches_rejected == 0);
  CHECK(h.metrics.batches_retried == 0);
}

TEST_CASE("OTLP: 400 rejects the batch for good: committed, counted, never re-sent", "[output]") {
  TestReceiver rx;
  rx.script({{400, {}, "bad request: invalid record"}});
  OutputHarness h("otlp+http://127.0.0.1:" + std::to_string(rx.port()));
  h.push(plain_batch("bad", 5), 100);
  h.push(plain_batch("good", 5), 200);
  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 200; }));
  h.run_for(200ms);
  const auto reqs = rx.requests();
  REQUIRE(reqs.size() == 2);  // no second attempt of the rejected batch
  CHECK(reqs[0].answered == 400);
  CHECK(decode(reqs[1]).resource_logs(0).scope_logs(0).log_records(0).body().string_value() == "good 0");
  CHECK(h.metrics.batches_rejected == 1);
  CHECK(h.metrics.batches_acked == 1);
  CHECK(h.metrics.batches_retried == 0);
}

TEST_CASE("OTLP: 429 with Retry-After is retried after the hinted delay, in order", "[output]") {
  TestReceiver rx;
  rx.script({{429, {{"Retry-After", "1"}}, "slow down"}});
  OutputHarness h("otlp+http://127.0.0.1:" + std::to_string(rx.port()));
  const auto start = std::chrono::steady_clock::now();
  h.push(plain_batch("a", 5), 100);
  h.push(plain_batch("b", 5), 200);
  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 200; }));
  CHECK(std::chrono::steady_clock::now() - start >= 950ms);
  const auto reqs = rx.requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[0].answered == 429);
  CHECK(decode(reqs[1]).resource_logs(0).scope_logs(0).log_records(0).body().string_value() == "a 0");
  CHECK(decode(reqs[2]).resource_logs(0).scope_logs(0).log_records(0).body().string_value() == "b 0");
  CHECK(h.metrics.batches_retried == 1);
  CHECK(h.metrics.entries_acked == 10);
}

TEST_CASE("OTLP: 503 and other 5xx are retried with backoff until accepted", "[output]") {
  TestReceiver rx;
  rx.script({{503, {}, "unavailable"}, {500, {}, "oops"}, {502, {}, ""}});
  OutputHarness h("otlp+http://127.0.0.1:" + std::to_string(rx.port()));
  h.push(plain_batch("a", 5), 100);
  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 100; }));
  h.run_for(100ms);
  const auto reqs = rx.requests();
  REQUIRE(reqs.size() == 4);
  CHECK(reqs[3].answered == 200);
  CHECK(h.metrics.batches_retried == 3);
  CHECK(h.metrics.batches_rejected == 0);
}

TEST_CASE("OTLP: a connection cut mid-request loses nothing", "[output]") {
  TestReceiver rx;
  ScriptedReply cut;
  cut.cut = true;
  rx.script({cut});
  OutputHarness h("otlp+http://127.0.0.1:" + std::to_string(rx.port()));
  h.push(plain_batch("a", 2000), 100);
  h.push(plain_batch("b", 10), 200);
  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 200; }));
  const auto reqs = rx.requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[0].answered == 0);
  const auto first = decode(reqs[1]);
  CHECK(first.resource_logs(0).scope_logs(0).log_records_size() == 2000);
  CHECK(decode(reqs[2]).resource_logs(0).scope_logs(0).log_records(0).body().string_value() == "b 0");
  CHECK(rx.connections() == 2);
  CHECK(h.metrics.entries_acked == 2010);
}

TEST_CASE("OTLP: Connection: close from the receiver is followed by a new connection", "[output]") {
  TestReceiver rx;
  ScriptedReply close;
  close.close = true;
  rx.script({close, close});
  OutputHarness h("otlp+http://127.0.0.1:" + std::to_string(rx.port()));
  for (int i = 1; i <= 3; ++i) h.push(plain_batch("a", 3), 100u * i);
  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 300; }));
  CHECK(rx.request_count() == 3);
  CHECK(rx.connections() == 3);
  CHECK(h.metrics.batches_retried == 0);
}

TEST_CASE("OTLP: an undecodable batch is rejected without a request", "[output]") {
  TestReceiver rx;
  OutputHarness h("otlp+http://127.0.0.1:" + std::to_string(rx.port()));
  auto b = std::make_shared<SealedBatch>();
  b->sequence = h.forwarder->next_sequence();
  b->payload = "\xff\xff\xff";
  b->entries = 1;
  b->commits.emplace_back(h.origin, 50);
  h.forwarder->push(b);
  h.push(plain_batch("ok", 1), 100);
  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 100; }));
  CHECK(rx.request_count() == 1);
  CHECK(h.metrics.batches_rejected == 1);
}
