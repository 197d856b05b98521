#include "aggregator/segment_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/asio/io_context.hpp>
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "support/node_batch.hpp"
#include "support/temp_dir.hpp"

using namespace logferry;
using namespace logferry::aggregator;
namespace fs = std::filesystem;

namespace {

v1::Batch make_batch(std::string_view source, uint64_t first_offset, int count, std::string_view pod = "web-0") {
  v1::Batch b;
  auto* ns = b.add_resource();
  ns->set_key("k8s.namespace.name");
  ns->mutable_value()->set_string_value("prod");
  auto* p = b.add_resource();
  p->set_key("k8s.pod.name");
  p->mutable_value()->set_string_value(std::string(pod));
  auto* s = b.add_sources();
  s->set_id(std::string(source));
  s->set_path("/var/log/app.log");
  for (int i = 0; i < count; ++i) {
    auto* e = b.add_entries();
    e->set_offset(first_offset + static_cast<uint64_t>(i) * 10);
    e->mutable_body()->set_string_value("line " + std::to_string(i));
    e->set_observed_time_unix_nano(1);
  }
  return b;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t count_lines(const fs::path& dir) {
  size_t n = 0;
  for (const auto& f : fs::directory_iterator(dir)) {
    const std::string s = read_file(f.path());
    n += static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
  }
  return n;
}

}  // namespace

TEST_CASE("segments are created 0600 in 0700 directories whatever the umask; group mode 0640/0750", "[aggregator]") {
  for (const auto mode : {StoreMode::owner, StoreMode::group}) {
    test::TempDir tmp("logferry-agg-store");
    const mode_t old = ::umask(0);
    boost::asio::io_context io;
    AggregatorMetrics metrics;
    StoreOptions options{tmp.path().string(), 64u << 20, FsyncPolicy::never, mode};
    SegmentStore store(io.get_executor(), options, metrics);
    REQUIRE(store.open().empty());
    REQUIRE(!store.append(make_batch("src", 0, 1)).ec);
    store.close();
    ::umask(old);
    const auto perms = [](const fs::path& p) { return static_cast<unsigned>(fs::status(p).permissions()); };
    CHECK(perms(tmp.path() / "prod") == (mode == StoreMode::owner ? 0700u : 0750u));
    CHECK(perms(tmp.path() / "prod" / "web-0") == (mode == StoreMode::owner ? 0700u : 0750u));
    CHECK(perms(tmp.path() / "prod" / "web-0" / "segment-000001.ndjson") == (mode == StoreMode::owner ? 0600u : 0640u));
  }
}

TEST_CASE("at most max_open_segments segment files stay open; closed ones reopen on demand", "[aggregator]") {
  test::TempDir tmp("logferry-agg-store");
  boost::asio::io_context io;
  AggregatorMetrics metrics;
  StoreOptions options{tmp.path().string(), 64u << 20, FsyncPolicy::never, StoreMode::owner, 4};
  SegmentStore store(io.get_executor(), options, metrics);
  REQUIRE(store.open().empty());
  for (int round = 0; round < 2; ++round) {
    for (int pod = 0; pod < 10; ++pod) {
      const auto r = store.append(make_batch("src", static_cast<uint64_t>(round) * 100, 2, "web-" + std::to_string(pod)));
      REQUIRE(!r.ec);
      CHECK(r.stored == 2);
      CHECK(store.open_segments() <= 4);
    }
  }
  store.close();
  for (int pod = 0; pod < 10; ++pod) CHECK(count_lines(tmp.path() / "prod" / ("web-" + std::to_string(pod))) == 4);
}

TEST_CASE("distinct Pod labels get distinct directories", "[aggregator]") {
  test::TempDir tmp("logferry-agg-store");
  boost::asio::io_context io;
  AggregatorMetrics metrics;
  SegmentStore store(io.get_executor(), StoreOptions{tmp.path().string(), 64u << 20, FsyncPolicy::never}, metrics);
  REQUIRE(store.open().empty());
  const std::string long_a = std::string(200, 'x') + "-a" + std::string(100, 'y');
  const std::string long_b = std::string(200, 'x') + "-b" + std::string(100, 'y');
  const std::vector<std::string> pods{"a/b", std::string("a\0b", 3), "a_b", "a%2Fb", long_a, long_b, ""};
  for (const auto& pod : pods) REQUIRE(store.append(make_batch("src", 0, 1, pod)).stored == 1);
  store.close();
  size_t dirs = 0;
  for (const auto& d : fs::directory_iterator(tmp.path() / "prod")) {
    ++dirs;
    CHECK(count_lines(d.path()) == 1);
  }
  CHECK(dirs == pods.size());
}

TEST_CASE("the store drops re-sent entries, also after a restart", "[aggregator]") {
  test::TempDir dir("logferry-agg-store");
  AggregatorMetrics metrics;
  const StoreOptions options{dir.path().string(), 64u << 20, FsyncPolicy::never};
  {
    boost::asio::io_context io;
    SegmentStore store(io.get_executor(), options, metrics);
    REQUIRE(store.open().empty());
    auto r = store.append(make_batch("src-a", 0, 3));
    REQUIRE_FALSE(r.ec);
    CHECK(r.stored == 3);
    CHECK(r.duplicates == 0);
    CHECK(store.durable(r.ticket));
    // The same batch again: all duplicates; an overlapping one: only the new part.
    r = store.append(make_batch("src-a", 0, 3));
    CHECK(r.stored == 0);
    CHECK(r.duplicates == 3);
    r = store.append(make_batch("src-a", 10, 3));  // offsets 10, 20, 30
    CHECK(r.stored == 1);
    CHECK(r.duplicates == 2);
    CHECK(store.highest_offset("prod", "web-0", "src-a") == 30u);
    store.close();
  }
  const fs::path pod_dir = dir.path() / "prod" / "web-0";
  CHECK(count_lines(pod_dir) == 4);
  {
    boost::asio::io_context io;
    SegmentStore store(io.get_executor(), options, metrics);
    REQUIRE(store.open().empty());
    CHECK(store.recovered_lines() == 4);
    CHECK(store.highest_offset("prod", "web-0", "src-a") == 30u);
    auto r = store.append(make_batch("src-a", 0, 4));
    CHECK(r.stored == 0);
    CHECK(r.duplicates == 4);
    r = store.append(make_batch("src-b", 0, 1));  // another source starts at 0
    CHECK(r.stored == 1);
    r = store.append(make_batch("src-a", 0, 1, "web-1"));  // same id, other pod: its own state
    CHECK(r.stored == 1);
    store.close();
  }
  CHECK(count_lines(pod_dir) == 5);
  CHECK(metrics.duplicates_dropped.load() == 9);
}

TEST_CASE("a partial trailing line left by a crash is cut off on open", "[aggregator]") {
  test::TempDir dir("logferry-agg-store");
  AggregatorMetrics metrics;
  const StoreOptions options{dir.path().string(), 64u << 20, FsyncPolicy::always};
  {
    boost::asio::io_context io;
    SegmentStore store(io.get_executor(), options, metrics);
    REQUIRE(store.open().empty());
    REQUIRE(store.append(make_batch("src", 0, 2)).stored == 2);
    store.close();
  }
  const fs::path segment = dir.path() / "prod" / "web-0" / "segment-000001.ndjson";
  const std::string good = read_file(segment);
  {
    std::ofstream out(segment, std::ios::app | std::ios::binary);
    out << R"({"source_id":"\"src\"","offset":99,"source_pa)";  // torn write: no newline
  }
  boost::asio::io_context io;
  SegmentStore store(io.get_executor(), options, metrics);
  REQUIRE(store.open().empty());
  CHECK(read_file(segment) == good);
  CHECK(store.highest_offset("prod", "web-0", "src") == 10u);
  // The entry whose line was torn was never acknowledged: it is stored when re-sent.
  auto r = store.append(make_batch("src", 20, 1));
  CHECK(r.stored == 1);
  store.close();
  const std::string after = read_file(segment);
  CHECK(std::count(after.begin(), after.end(), '\n') == 3);
}

TEST_CASE("segments rotate by size and numbering continues after a restart", "[aggregator]") {
  test::TempDir dir("logferry-agg-store");
  AggregatorMetrics metrics;
  const StoreOptions options{dir.path().string(), 4096, FsyncPolicy::never};
  uint64_t next = 0;
  for (int round = 0; round < 2; ++round) {
    boost::asio::io_context io;
    SegmentStore store(io.get_executor(), options, metrics);
    REQUIRE(store.open().empty());
    for (int i = 0; i < 20; ++i) {
      auto r = store.append(make_batch("src", next, 5));
      REQUIRE(r.stored == 5);
      next += 50;
    }
    store.close();
  }
  const fs::path pod_dir = dir.path() / "prod" / "web-0";
  size_t segments = 0;
  for (const auto& f : fs::directory_iterator(pod_dir)) {
    ++segments;
    CHECK(f.path().filename().string().starts_with("segment-"));
    CHECK(fs::file_size(f.path()) <= 4096);
  }
  CHECK(segments > 4);
  CHECK(fs::exists(pod_dir / "segment-000001.ndjson"));
  CHECK(fs::exists(pod_dir / fmt::format("segment-{:06}.ndjson", segments)));
  CHECK(count_lines(pod_dir) == 200);
}

TEST_CASE("group commit makes a ticket durable after a sync round", "[aggregator]") {
  test::TempDir dir("logferry-agg-store");
  AggregatorMetrics metrics;
  boost::asio::io_context io;
  SegmentStore store(io.get_executor(), StoreOptions{dir.path().string(), 64u << 20, FsyncPolicy::always}, metrics);
  REQUIRE(store.open().empty());
  const auto r1 = store.append(make_batch("a", 0, 2));
  const auto r2 = store.append(make_batch("b", 0, 2, "other"));
  REQUIRE(r1.ticket > 0);
  REQUIRE(r2.ticket > r1.ticket);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!store.durable(r2.ticket) && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(10));
    io.restart();
  }
  CHECK(store.durable(r1.ticket));
  CHECK(store.durable(r2.ticket));
  CHECK(metrics.fsyncs.load() >= 1);
  // A batch of duplicates only waits for what is already written.
  const auto dup = store.append(make_batch("a", 0, 2));
  CHECK(dup.stored == 0);
  CHECK(store.durable(dup.ticket));
  store.close();
}

TEST_CASE("the store files a node agent's entries under each source's Pod", "[aggregator][node]") {
  test::TempDir tmp("logferry-node-store");
  const fs::path dir = tmp.path();
  AggregatorMetrics metrics;
  {
    boost::asio::io_context io;
    SegmentStore store(io.get_executor(), {dir.string(), 64u << 20, FsyncPolicy::never}, metrics);
    REQUIRE(store.open().empty());
    auto r = store.append(test::node_batch());
    REQUIRE_FALSE(r.ec);
    CHECK(r.stored == 8);
    CHECK(store.durable(r.ticket));
    r = store.append(test::node_batch());  // re-sent: all duplicates
    CHECK(r.stored == 0);
    CHECK(r.duplicates == 8);
    CHECK(store.highest_offset("shop", "web-0", "file:1:2") == 6u);
    CHECK(store.highest_offset("kube-system", "dns-0", "file:1:1") == 5u);
    CHECK(store.highest_offset("agent-ns", "", "file:1:3") == 7u);  // no Pod label: DATA_DIR/agent-ns/_unknown
    store.close();
  }
  const std::string web = test::read_file(dir / "shop/web-0/segment-000001.ndjson");
  CHECK(std::count(web.begin(), web.end(), '\n') == 4);
  CHECK(web.find("\"k8s.container.name\":\"app\"") != std::string::npos);
  CHECK(web.find("\"k8s.node.name\":\"node-1\"") != std::string::npos);
  CHECK(web.find("agent-ns") == std::string::npos);  // the source's namespace won
  const std::string dns = test::read_file(dir / "kube-system/dns-0/segment-000001.ndjson");
  CHECK(std::count(dns.begin(), dns.end(), '\n') == 2);
}

TEST_CASE("a batch labelled as the audit store lands elsewhere; the audit directory's state is untouched", "[aggregator]") {
  test::TempDir tmp("logferry-agg-store");
  boost::asio::io_context io;
  AggregatorMetrics metrics;
  SegmentStore store(io.get_executor(), StoreOptions{tmp.path().string(), 64u << 20, FsyncPolicy::never}, metrics);
  REQUIRE(store.open().empty());
  v1::Batch forged = make_batch("k8s-audit-webhook", UINT64_MAX, 1, "kube-apiserver");
  forged.mutable_resource(0)->mutable_value()->set_string_value("_audit");
  REQUIRE(store.append(forged).stored == 1);
  CHECK_FALSE(store.highest_offset_at("_audit/kube-apiserver", "k8s-audit-webhook"));
  REQUIRE(store.append(make_batch("k8s-audit-webhook", 1, 1, "kube-apiserver"), "_audit/kube-apiserver").stored == 1);
  CHECK(store.highest_offset_at("_audit/kube-apiserver", "k8s-audit-webhook") == 1u);
  store.close();
  CHECK(fs::exists(tmp.path() / "%5Faudit" / "kube-apiserver"));
}
