// StoreRelay and StoreRetention on a real SegmentStore, relaying to an in-test
// OTLP/HTTP receiver: what is stored reaches the downstream once, the cursor
// is saved after the answer and resumed by a new instance (a restart), and the
// retention deletes by age and cap, slows the sidecars down at the cap when the
// relay is behind, or deletes unrelayed lines (counted) when told to.
#include "aggregator/store_relay.hpp"
#include "aggregator/store_retention.hpp"

#include <sys/stat.h>

#include <chrono>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "support/otlp_logs_receiver.hpp"
#include "support/temp_dir.hpp"

using namespace logferry;
using namespace logferry::aggregator;
using namespace logferry::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

v1::Batch pod_batch(std::string_view pod, uint64_t first, int count) {
  v1::Batch b;
  for (const auto& [k, v] : {std::pair<std::string, std::string>{"k8s.namespace.name", "shop"},
                             std::pair<std::string, std::string>{"k8s.pod.name", std::string(pod)}}) {
    auto* kv = b.add_resource();
    kv->set_key(k);
    kv->mutable_value()->set_string_value(v);
  }
  auto* s = b.add_sources();
  s->set_id(fmt::format("file:1:2:{}", pod));
  s->set_path("/var/log/app.log");
  for (int i = 0; i < count; ++i) {
    auto* e = b.add_entries();
    e->set_offset(first + static_cast<uint64_t>(i) + 1);
    e->set_observed_time_unix_nano(1'700'000'000'000'000'000ull + first + static_cast<uint64_t>(i));
    e->mutable_body()->set_string_value(fmt::format("{} entry {:06}", pod, first + static_cast<uint64_t>(i)));
  }
  return b;
}

// `buffer`: the relay's in-memory budget (LOGFERRY_BUFFER_MAX_BYTES).
OutputOptions relay_config(uint16_t port, const std::string& buffer = "16MiB") {
  OutputOptions c;
  const auto errors = relay_output_options({{"LOGFERRY_BACKOFF_INITIAL", "20ms"}, {"LOGFERRY_BACKOFF_MAX", "100ms"},
                                         {"LOGFERRY_BUFFER_MAX_BYTES", buffer}},
                                        fmt::format("otlp+http://127.0.0.1:{}", port), c);
  REQUIRE(errors.empty());
  return c;
}

// Runs `io` until `done` or 20 s.
template <class F>
bool run_until(boost::asio::io_context& io, F done) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.run_for(10ms);
    if (io.stopped()) io.restart();
  }
  return done();
}

StoreOptions store_options(const fs::path& dir, uint64_t segment_bytes = 64u << 20) {
  StoreOptions o;
  o.data_dir = dir.string();
  o.segment_max_bytes = segment_bytes;
  o.fsync = FsyncPolicy::never;
  return o;
}

}  // namespace

TEST_CASE("StoreRelay: the store's lines reach the downstream once; a restart resumes from the saved cursor",
          "[aggregator][relay]") {
  TempDir tmp("logferry-store-relay");
  OtlpLogsReceiver down;
  const OutputOptions config = relay_config(down.port());
  AggregatorMetrics metrics;
  {
    boost::asio::io_context io;
    SegmentStore store(io.get_executor(), store_options(tmp / "data", 8192), metrics);
    REQUIRE(store.open().empty());
    for (uint64_t i = 0; i < 10; ++i) {
      REQUIRE(!store.append(pod_batch("web-0", i * 50, 50)).ec);
      REQUIRE(!store.append(pod_batch("web-1", i * 50, 50)).ec);
    }
    REQUIRE(store.segments_of("shop/web-0")->size() > 1);  // several segments to walk through
    Relay relay(io.get_executor(), config);
    relay.start();
    StoreRelay store_relay(io.get_executor(), store, relay, metrics, StoreRelayOptions{100, 1u << 20, 50ms});
    REQUIRE(store_relay.open().empty());
    CHECK(store_relay.lag_entries() == 1'000);
    store_relay.start();
    REQUIRE(run_until(io, [&] { return down.count() >= 1'000 && store_relay.lag_entries() == 0; }));
    CHECK(store_relay.lag_bytes() == 0);
    // Stored later: relayed too.
    REQUIRE(!store.append(pod_batch("web-0", 500, 20)).ec);
    REQUIRE(run_until(io, [&] { return down.count() >= 1'020; }));
    store_relay.stop();
    relay.stop();
    store.close();
    io.run_for(100ms);
  }
  CHECK(down.count() == 1'020);
  CHECK(down.distinct() == 1'020);
  CHECK(fs::exists(tmp / "data" / "shop" / "web-0" / "relay-cursor"));

  // Restarted: nothing is sent again; what is stored now is.
  boost::asio::io_context io;
  SegmentStore store(io.get_executor(), store_options(tmp / "data", 8192), metrics);
  REQUIRE(store.open().empty());
  Relay relay(io.get_executor(), config);
  relay.start();
  StoreRelay store_relay(io.get_executor(), store, relay, metrics, StoreRelayOptions{100, 1u << 20, 50ms});
  REQUIRE(store_relay.open().empty());
  CHECK(store_relay.lag_entries() == 0);
  store_relay.start();
  REQUIRE(!store.append(pod_batch("web-1", 500, 30)).ec);
  REQUIRE(run_until(io, [&] { return down.count() >= 1'050; }));
  io.run_for(200ms);
  CHECK(down.count() == 1'050);
  CHECK(down.distinct() == 1'050);
  store_relay.stop();
  relay.stop();
  store.close();
}

TEST_CASE("StoreRelay: a cursor not saved before a crash re-sends from the saved one, never skips",
          "[aggregator][relay]") {
  TempDir tmp("logferry-store-relay-crash");
  OtlpLogsReceiver down;
  const OutputOptions config = relay_config(down.port());
  AggregatorMetrics metrics;
  boost::asio::io_context io;
  SegmentStore store(io.get_executor(), store_options(tmp / "data"), metrics);
  REQUIRE(store.open().empty());
  REQUIRE(!store.append(pod_batch("web-0", 0, 100)).ec);
  {
    Relay relay(io.get_executor(), config);
    relay.start();
    // The cursor interval is long: the accepted lines are not in a saved cursor.
    StoreRelay store_relay(io.get_executor(), store, relay, metrics, StoreRelayOptions{10, 1u << 20, 1h});
    REQUIRE(store_relay.open().empty());
    store_relay.start();
    REQUIRE(run_until(io, [&] { return down.count() >= 100; }));
    relay.stop();  // a crash: store_relay.stop() (which saves) is not called
    io.run_for(50ms);
  }
  REQUIRE(!store.append(pod_batch("web-0", 100, 50)).ec);
  Relay relay(io.get_executor(), config);
  relay.start();
  StoreRelay store_relay(io.get_executor(), store, relay, metrics, StoreRelayOptions{10, 1u << 20, 50ms});
  REQUIRE(store_relay.open().empty());
  CHECK(store_relay.lag_entries() == 150);
  store_relay.start();
  REQUIRE(run_until(io, [&] { return down.count() >= 250; }));
  io.run_for(100ms);
  CHECK(down.count() == 250);     // the first 100 twice (same bytes: backends drop them), the rest once
  CHECK(down.distinct() == 150);  // nothing skipped
  store_relay.stop();
  relay.stop();
  store.close();
}

TEST_CASE("StoreRelay: drain stops submitting, waits for the batches in flight and saves the cursor",
          "[aggregator][relay]") {
  TempDir tmp("logferry-store-relay-drain");
  OtlpLogsReceiver down;
  const OutputOptions config = relay_config(down.port(), "4KiB");  // about one batch in flight
  AggregatorMetrics metrics;
  boost::asio::io_context io;
  SegmentStore store(io.get_executor(), store_options(tmp / "data"), metrics);
  REQUIRE(store.open().empty());
  for (uint64_t i = 0; i < 50; ++i) REQUIRE(!store.append(pod_batch("web-0", i * 100, 100)).ec);
  size_t first_run = 0;
  {
    Relay relay(io.get_executor(), config);
    relay.start();
    StoreRelay store_relay(io.get_executor(), store, relay, metrics, StoreRelayOptions{100, 1u << 20, 1h});
    REQUIRE(store_relay.open().empty());
    store_relay.start();
    REQUIRE(run_until(io, [&] { return down.count() >= 500; }));
    bool drained = false;
    bool finished = false;
    boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
      drained = co_await store_relay.drain(std::chrono::steady_clock::now() + 5s);
      finished = true;
    }, boost::asio::detached);
    REQUIRE(run_until(io, [&] { return finished; }));
    CHECK(drained);
    first_run = down.count();
    CHECK(first_run < 5'000);  // stopped early: the rest waits in the store
    CHECK(store_relay.cursor("shop/web-0").offset > 0);
    store_relay.stop();
    relay.stop();
    io.run_for(50ms);
  }
  Relay relay(io.get_executor(), config);
  relay.start();
  StoreRelay store_relay(io.get_executor(), store, relay, metrics, StoreRelayOptions{100, 1u << 20, 50ms});
  REQUIRE(store_relay.open().empty());
  CHECK(store_relay.lag_entries() == 5'000 - first_run);  // the saved cursor covers what was answered
  store_relay.start();
  REQUIRE(run_until(io, [&] { return down.count() >= 5'000; }));
  io.run_for(100ms);
  CHECK(down.count() == 5'000);
  CHECK(down.distinct() == 5'000);
  store_relay.stop();
  relay.stop();
  store.close();
}

TEST_CASE("StoreRetention without a relay: age and size cap delete the oldest segments; dedupe survives",
          "[aggregator][retention]") {
  TempDir tmp("logferry-retention");
  AggregatorMetrics metrics;
  boost::asio::io_context io;
  {
    SegmentStore store(io.get_executor(), store_options(tmp / "data", 4096), metrics);
    REQUIRE(store.open().empty());
    for (uint64_t i = 0; i < 20; ++i) REQUIRE(!store.append(pod_batch("web-0", i * 20, 20)).ec);
    const size_t segments = store.segments_of("shop/web-0")->size();
    REQUIRE(segments > 4);
    const uint64_t total = store.total_bytes();
    StoreRetention cap(io.get_executor(), store, nullptr, metrics, RetentionOptions{total / 2, 0ms});
    cap.enforce();
    CHECK(store.total_bytes() <= total / 2);
    CHECK(metrics.retention_segments_deleted.load() > 0);
    CHECK(metrics.retention_bytes_deleted.load() == total - store.total_bytes());
    CHECK(!fs::exists(tmp / "data" / "shop" / "web-0" / segment_file_name(1)));  // the oldest went first
    CHECK(!store.full());
    // Entries whose lines were deleted are still duplicates.
    const auto again = store.append(pod_batch("web-0", 0, 20));
    CHECK(again.stored == 0);
    CHECK(again.duplicates == 20);
    // Age: everything older than 1 h (back-dated) goes, the current segment too.
    for (const auto& [index, size] : *store.segments_of("shop/web-0")) {
      const fs::path p = tmp / "data" / "shop" / "web-0" / segment_file_name(index);
      fs::last_write_time(p, fs::last_write_time(p) - 2h);
    }
    StoreRetention age(io.get_executor(), store, nullptr, metrics, RetentionOptions{0, 1h});
    age.enforce();
    CHECK(store.total_bytes() == 0);
    CHECK(store.segments_of("shop/web-0")->empty());
    REQUIRE(!store.append(pod_batch("web-0", 400, 5)).ec);  // appends go on in a new segment
    CHECK(store.total_bytes() > 0);
    store.close();
  }
  // Reopened: the deleted entries are still known, new indexes are not reused.
  SegmentStore store(io.get_executor(), store_options(tmp / "data", 4096), metrics);
  REQUIRE(store.open().empty());
  CHECK(store.highest_offset("shop", "web-0", "file:1:2:web-0") == 405u);
  const auto again = store.append(pod_batch("web-0", 100, 10));
  CHECK(again.duplicates == 10);
  CHECK(store.segments_of("shop/web-0")->size() == 1);
  store.close();
}

TEST_CASE("StoreRetention with a relay: at the cap the store slows down until the relay frees room; delete_oldest "
          "counts what it deletes unrelayed",
          "[aggregator][retention][relay]") {
  TempDir tmp("logferry-retention-relay");
  OtlpLogsReceiver down;
  down.set_down(true);  // the downstream is down
  const OutputOptions config = relay_config(down.port());
  AggregatorMetrics metrics;
  boost::asio::io_context io;
  SegmentStore store(io.get_executor(), store_options(tmp / "data", 4096), metrics);
  REQUIRE(store.open().empty());
  for (uint64_t i = 0; i < 20; ++i) REQUIRE(!store.append(pod_batch("web-0", i * 20, 20)).ec);
  const uint64_t total = store.total_bytes();
  Relay relay(io.get_executor(), config);
  relay.start();
  StoreRelay store_relay(io.get_executor(), store, relay, metrics, StoreRelayOptions{50, 1u << 20, 50ms});
  REQUIRE(store_relay.open().empty());
  store_relay.start();
  io.run_for(300ms);

  SECTION("slow") {
    StoreRetention retention(io.get_executor(), store, &store_relay, metrics, RetentionOptions{total / 2, 0ms});
    retention.enforce();
    CHECK(store.full());  // nothing relayed: nothing may go
    CHECK(store.total_bytes() == total);
    CHECK(metrics.retention_segments_deleted.load() == 0);
    down.set_down(false);  // back: relayed segments can go
    REQUIRE(run_until(io, [&] { return down.distinct() == 400; }));
    REQUIRE(run_until(io, [&] { return store_relay.lag_entries() == 0; }));
    retention.enforce();
    CHECK(!store.full());
    CHECK(store.total_bytes() <= total / 2);
    CHECK(metrics.retention_unrelayed_deleted.load() == 0);
  }
  SECTION("delete_oldest") {
    StoreRetention retention(io.get_executor(), store, &store_relay, metrics,
                             RetentionOptions{total / 2, 0ms, RetentionFull::delete_oldest});
    retention.enforce();
    CHECK(!store.full());
    CHECK(store.total_bytes() <= total / 2);
    const uint64_t lost = metrics.retention_unrelayed_deleted.load();
    CHECK(lost > 0);
    down.set_down(false);
    // The rest is relayed, the deleted lines are not waited for.
    REQUIRE(run_until(io, [&] { return store_relay.lag_entries() == 0; }));
    CHECK(down.distinct() + lost >= 400);
  }
  store_relay.stop();
  relay.stop();
  store.close();
}
