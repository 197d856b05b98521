// Loki output against an in-test receiver that snappy-decodes the body and
// parses it with the push.proto written from Loki's public definitions.
#include "sidecar/forward/loki_encoder.hpp"

#include <catch2/catch.hpp>

#include "unit/forward/output_harness.hpp"

using namespace logferry;
using namespace logferry::test;

namespace {

logproto::PushRequest decode(const ReceivedRequest& r) {
  logproto::PushRequest req;
  REQUIRE(req.ParseFromString(r.decoded));
  return req;
}

// Two files; entries deliberately out of time order; one without an event time.
v1::Batch loki_batch() {
  v1::Batch b = plain_batch("x", 0);
  auto* kv = b.add_resource();
  kv->set_key("k8s.container.name");
  kv->mutable_value()->set_string_value("app");
  kv = b.add_resource();
  kv->set_key("team");
  kv->mutable_value()->set_string_value("pay\"ments");
  auto* s = b.add_sources();
  s->set_id("file:9");
  s->set_path("/var/log/app/b.log");
  auto add = [&](uint32_t source, uint64_t t, uint64_t observed, const std::string& body) {
    auto* e = b.add_entries();
    e->set_source_index(source);
    e->set_time_unix_nano(t);
    e->set_observed_time_unix_nano(observed);
    e->mutable_body()->set_string_value(body);
    return e;
  };
  add(0, 3'000'000'005, 9, "a-third");
  auto* e = add(0, 1'000'000'001, 9, "a-first");
  e->set_severity_text("warn");
  e->set_trace_id(std::string(16, '\x11'));
  e->set_span_id(std::string(8, '\x22'));
  auto* kv2 = e->add_attributes();
  kv2->set_key("user");
  kv2->mutable_value()->set_string_value("ann lee");
  kv2 = e->add_attributes();
  kv2->set_key("n");
  kv2->mutable_value()->set_int_value(5);
  add(0, 0, 2'000'000'000, "a-second (observed time only)");
  add(1, 5, 9, "b-only");
  add(0, 3'000'000'005, 9, "a-fourth (same time as third)");
  return b;
}

}  // namespace

TEST_CASE("Loki: streams by labels, entries in time order, logfmt line, snappy, tenant", "[output]") {
  TestReceiver rx(/*snappy_bodies=*/true);
  OutputHarness h("loki+http://127.0.0.1:" + std::to_string(rx.port()), [](Config& c) {
    c.output.loki_tenant = "tenant-a";
    c.output.loki_structured_metadata = false;
    c.output.loki_labels = {"namespace", "pod", "container", "filename", "team"};
  });
  h.push(loki_batch(), 100);
  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 100; }));
  const auto reqs = rx.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].target == "/loki/api/v1/push");
  CHECK(reqs[0].headers.at("content-type") == "application/x-protobuf");
  CHECK(reqs[0].headers.at("x-scope-orgid") == "tenant-a");
  const auto req = decode(reqs[0]);
  REQUIRE(req.streams_size() == 2);
  const auto& a = req.streams(0);
  const auto& b = req.streams(1);
  CHECK(a.labels() == "{container=\"app\",filename=\"app.log\",namespace=\"shop\",pod=\"web-0\",team=\"pay\\\"ments\"}");
  CHECK(b.labels() == "{container=\"app\",filename=\"b.log\",namespace=\"shop\",pod=\"web-0\",team=\"pay\\\"ments\"}");
  REQUIRE(a.entries_size() == 4);
  CHECK(a.entries(0).line() == "a-first level=warn trace_id=11111111111111111111111111111111 span_id=2222222222222222 "
                               "user=\"ann lee\" n=5");
  CHECK(a.entries(0).timestamp().seconds() == 1);
  CHECK(a.entries(0).timestamp().nanos() == 1);
  CHECK(a.entries(1).line() == "a-second (observed time only)");
  CHECK(a.entries(1).timestamp().seconds() == 2);
  CHECK(a.entries(2).line() == "a-third");
  CHECK(a.entries(2).timestamp().seconds() == 3);
  CHECK(a.entries(2).timestamp().nanos() == 5);
  CHECK(a.entries(3).line() == "a-fourth (same time as third)");  // stable for equal times
  REQUIRE(b.entries_size() == 1);
  CHECK(b.entries(0).line() == "b-only");
  CHECK(b.entries(0).timestamp().nanos() == 5);
}

TEST_CASE("Loki: structured metadata instead of logfmt", "[output]") {
  TestReceiver rx(true);
  OutputHarness h("loki+http://127.0.0.1:" + std::to_string(rx.port()) + "/custom/push",
                  [](Config& c) { c.output.loki_structured_metadata = true; });
  h.push(loki_batch(), 100);
  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 100; }));
  const auto reqs = rx.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].target == "/custom/push");
  CHECK(reqs[0].headers.count("x-scope-orgid") == 0);
  const auto req = decode(reqs[0]);
  const auto& first = req.streams(0).entries(0);
  CHECK(first.line() == "a-first");
  std::vector<std::pair<std::string, std::string>> md;
  for (const auto& p : first.structuredmetadata()) md.emplace_back(p.name(), p.value());
  CHECK(md == std::vector<std::pair<std::string, std::string>>{{"level", "warn"},
                                                               {"trace_id", std::string(32, '1')},
                                                               {"span_id", std::string(16, '2')},
                                                               {"user", "ann lee"},
                                                               {"n", "5"}});
}

TEST_CASE("Loki: label rendering escapes values; label sources map to Kubernetes keys", "[output]") {
  CHECK(render_loki_labels({{"b", "x\\y"}, {"a", "line\nbreak \"q\""}}) == "{a=\"line\\nbreak \\\"q\\\"\",b=\"x\\\\y\"}");
  const auto sources = loki_label_sources({"namespace", "pod", "node", "filename", "service_name", "app=app.kubernetes.io/name", "team"});
  REQUIRE(sources.size() == 7);
  CHECK(sources[0].resource_key == "k8s.namespace.name");
  CHECK(sources[1].resource_key == "k8s.pod.name");
  CHECK(sources[2].resource_key == "k8s.node.name");
  CHECK(sources[3].kind == LokiLabelSource::Kind::filename);
  CHECK(sources[4].kind == LokiLabelSource::Kind::service_name);
  CHECK(sources[5].name == "app");
  CHECK(sources[5].resource_key == "app.kubernetes.io/name");
  CHECK(sources[6].resource_key == "team");
  // No label resolves: Loki needs at least one.
  v1::Batch b = plain_batch("x", 1);
  logproto::PushRequest req;
  batch_to_loki(b, loki_label_sources({"node"}), "", false, req);
  CHECK(req.streams(0).labels() == "{job=\"logferry\"}");
  req.Clear();
  batch_to_loki(b, loki_label_sources({"service_name"}), "checkout", false, req);
  CHECK(req.streams(0).labels() == "{service_name=\"checkout\"}");
}

TEST_CASE("Loki: 400 (out of order, bad labels) is counted once, 500 and 429 are retried", "[output]") {
  TestReceiver rx(true);
  rx.script({{400, {}, "entry too far behind"}, {500, {}, "ingester down"}, {429, {{"Retry-After", "0"}}, "rate"}});
  OutputHarness h("loki+http://127.0.0.1:" + std::to_string(rx.port()));
  h.push(plain_batch("rejected", 3), 100);
  h.push(plain_batch("later", 3), 200);
  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 200; }));
  h.run_for(200ms);
  const auto reqs = rx.requests();
  REQUIRE(reqs.size() == 4);
  CHECK(decode(reqs[0]).streams(0).entries(0).line() == "rejected 0");
  for (size_t i = 1; i < 4; ++i) CHECK(decode(reqs[i]).streams(0).entries(0).line() == "later 0");
  CHECK(h.metrics.batches_rejected == 1);
  CHECK(h.metrics.batches_acked == 1);
  CHECK(h.metrics.batches_retried == 2);
}
