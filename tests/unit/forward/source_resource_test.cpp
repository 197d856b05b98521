// Per-source resource labels (a node agent's batches span several Pods): the
// OTLP encoder emits one ResourceLogs per effective resource, Loki streams use
// the effective labels, the reference store files entries per Pod; batches
// without source labels keep their single-resource shape.
#include "sidecar/forward/otlp_encoder.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "aggregator/segment_store.hpp"
#include "sidecar/forward/loki_encoder.hpp"

using namespace logferry;
namespace fs = std::filesystem;
namespace cmn = opentelemetry::proto::common::v1;

namespace {

void add_label(google::protobuf::RepeatedPtrField<v1::KeyValue>& kvs, const std::string& k, const std::string& v) {
  auto* kv = kvs.Add();
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}

// Sources: 0 = shop/web-0/app, 1 = kube-system/dns-0/coredns, 2 = shop/web-0/app
// again (a rotated file of the same container), 3 = no labels.
v1::Batch node_batch() {
  v1::Batch b;
  add_label(*b.mutable_resource(), "k8s.node.name", "node-1");
  add_label(*b.mutable_resource(), "k8s.namespace.name", "agent-ns");
  const char* pods[][3] = {{"web-0", "shop", "app"}, {"dns-0", "kube-system", "coredns"}, {"web-0", "shop", "app"}};
  for (int i = 0; i < 4; ++i) {
    auto* s = b.add_sources();
    s->set_id("file:1:" + std::to_string(i));
    s->set_path("/var/log/containers/f" + std::to_string(i) + ".log");
    if (i == 3) continue;
    add_label(*s->mutable_resource(), "k8s.pod.name", pods[i][0]);
    add_label(*s->mutable_resource(), "k8s.namespace.name", pods[i][1]);
    add_label(*s->mutable_resource(), "k8s.container.name", pods[i][2]);
  }
  for (uint32_t i = 0; i < 8; ++i) {
    auto* e = b.add_entries();
    e->set_source_index(i % 4);
    e->set_offset(i);
    e->set_observed_time_unix_nano(1000 + i);
    e->mutable_body()->set_string_value("line " + std::to_string(i));
  }
  return b;
}

std::string attr(const google::protobuf::RepeatedPtrField<cmn::KeyValue>& kvs, const std::string& key) {
  std::string out;
  int seen = 0;
  for (const auto& kv : kvs)
    if (kv.key() == key) out = kv.value().string_value(), ++seen;
  return seen > 1 ? "<duplicate>" : out;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
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

TEST_CASE("the store files a node agent's entries under each source's Pod", "[aggregator][node]") {
  const fs::path dir = fs::temp_directory_path() / ("logferry-node-store-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  aggregator::AggregatorMetrics metrics;
  {
    boost::asio::io_context io;
    aggregator::SegmentStore store(io.get_executor(), {dir.string(), 64u << 20, aggregator::FsyncPolicy::never}, metrics);
    REQUIRE(store.open().empty());
    auto r = store.append(node_batch());
    REQUIRE_FALSE(r.ec);
    CHECK(r.stored == 8);
    CHECK(store.durable(r.ticket));
    r = store.append(node_batch());  // re-sent: all duplicates
    CHECK(r.stored == 0);
    CHECK(r.duplicates == 8);
    CHECK(store.highest_offset("shop", "web-0", "file:1:2") == 6u);
    CHECK(store.highest_offset("kube-system", "dns-0", "file:1:1") == 5u);
    CHECK(store.highest_offset("agent-ns", "", "file:1:3") == 7u);  // no Pod label: DATA_DIR/agent-ns/_unknown
    store.close();
  }
  const std::string web = read_all(dir / "shop/web-0/segment-000001.ndjson");
  CHECK(std::count(web.begin(), web.end(), '\n') == 4);
  CHECK(web.find("\"k8s.container.name\":\"app\"") != std::string::npos);
  CHECK(web.find("\"k8s.node.name\":\"node-1\"") != std::string::npos);
  CHECK(web.find("agent-ns") == std::string::npos);  // the source's namespace won
  const std::string dns = read_all(dir / "kube-system/dns-0/segment-000001.ndjson");
  CHECK(std::count(dns.begin(), dns.end(), '\n') == 2);
  std::error_code ec;
  fs::remove_all(dir, ec);
}
