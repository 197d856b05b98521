// Per-source resource labels (a node agent's batches span several Pods): the
// OTLP encoder emits one ResourceLogs per effective resource, Loki streams use
// the effective labels; batches without source labels keep their
// single-resource shape. (The store's side: unit/aggregator/segment_store_test.cpp.)
#include "sidecar/forward/otlp_encoder.hpp"

#include <algorithm>
#include <map>

#include <catch2/catch.hpp>

#include "sidecar/forward/loki_encoder.hpp"
#include "support/node_batch.hpp"

using namespace logferry;
using logferry::test::node_batch;
namespace cmn = opentelemetry::proto::common::v1;

namespace {

std::string attr(const google::protobuf::RepeatedPtrField<cmn::KeyValue>& kvs, const std::string& key) {
  std::string out;
  int seen = 0;
  for (const auto& kv : kvs)
    if (kv.key() == key) out = kv.value().string_value(), ++seen;
  return seen > 1 ? "<duplicate>" : out;
}

}  // namespace

TEST_CASE("OTLP: one ResourceLogs per effective resource, source labels override", "[output][node]") {
  otlp::collector::ExportLogsServiceRequest req;
  batch_to_otlp(node_batch(), "", req);
  REQUIRE(req.resource_logs_size() == 3);
  const auto& web = req.resource_logs(0);
  CHECK(attr(web.resource().attributes(), "k8s.pod.name") == "web-0");
  CHECK(attr(web.resource().attributes(), "k8s.namespace.name") == "shop");
  CHECK(attr(web.resource().attributes(), "k8s.node.name") == "node-1");
  CHECK(attr(web.resource().attributes(), "service.name") == "app");
  REQUIRE(web.scope_logs_size() == 1);
  REQUIRE(web.scope_logs(0).log_records_size() == 4);  // sources 0 and 2
  CHECK(web.scope_logs(0).log_records(0).body().string_value() == "line 0");
  CHECK(web.scope_logs(0).log_records(1).body().string_value() == "line 2");
  const auto& dns = req.resource_logs(1);
  CHECK(attr(dns.resource().attributes(), "k8s.namespace.name") == "kube-system");
  CHECK(dns.scope_logs(0).log_records_size() == 2);
  const auto& rest = req.resource_logs(2);
  CHECK(attr(rest.resource().attributes(), "k8s.namespace.name") == "agent-ns");
  CHECK(attr(rest.resource().attributes(), "k8s.pod.name").empty());
  CHECK(rest.scope_logs(0).log_records_size() == 2);
}

TEST_CASE("OTLP: a batch without source labels keeps one ResourceLogs", "[output][node]") {
  v1::Batch b = node_batch();
  for (auto& s : *b.mutable_sources()) s.clear_resource();
  otlp::collector::ExportLogsServiceRequest req;
  batch_to_otlp(b, "", req);
  REQUIRE(req.resource_logs_size() == 1);
  CHECK(req.resource_logs(0).scope_logs(0).log_records_size() == 8);
}

TEST_CASE("Loki: stream labels come from each source's effective resource", "[output][node]") {
  logproto::PushRequest req;
  batch_to_loki(node_batch(), loki_label_sources({"namespace", "pod", "container"}), "", false, req);
  std::map<std::string, int> streams;
  for (const auto& s : req.streams()) streams[s.labels()] += s.entries_size();
  CHECK(streams == std::map<std::string, int>{{"{container=\"app\",namespace=\"shop\",pod=\"web-0\"}", 4},
                                              {"{container=\"coredns\",namespace=\"kube-system\",pod=\"dns-0\"}", 2},
                                              {"{namespace=\"agent-ns\"}", 2}});
}
