#include "sidecar/forward/batcher.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "unit/forward/fake_sink.hpp"

using namespace logferry;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  boost::asio::io_context io;
  Config config;
  PipelineMetrics metrics;
  test::FakeSink sink{io.get_executor()};
  std::unique_ptr<Forwarder> forwarder;
  std::unique_ptr<Batcher> batcher;

  Fixture() {
    config.batch_max_entries = 3;
    config.batch_max_bytes = 1 << 20;
    config.batch_timeout = 50ms;
    config.buffer_max_bytes = 4 << 20;
    config.max_in_flight = 8;
    config.pod_name = "web-0";
    config.labels = {{"team", "shop"}};
    config.parser = "plain";
    forwarder = std::make_unique<Forwarder>(io.get_executor(), sink, config, metrics);
    batcher = std::make_unique<Batcher>(io.get_executor(), config, *forwarder, metrics);
  }
  OriginPtr origin(const std::string& id, const std::string& path) {
    auto o = std::make_shared<Origin>();
    o->id = id;
    o->path = path;
    return o;
  }
};

}  // namespace

TEST_CASE("lines become entries of a batch sealed at the entry limit", "[forward]") {
  Fixture f;
  auto a = f.origin("file:a", "/logs/a.log");
  auto b = f.origin("file:b", "/logs/b.log");
  f.batcher->accept(a, RawLine{"alpha", 0, 6, false});
  f.batcher->accept(b, RawLine{"beta", 0, 5, false});
  CHECK(f.forwarder->queued_batches() == 0);
  f.batcher->accept(a, RawLine{std::string_view("gam\xffma", 6), 6, 13, true});
  REQUIRE(f.forwarder->queued_batches() == 1);
  CHECK(f.metrics.parse_errors == 0);
}

TEST_CASE("a sealed batch decodes to the wire contract", "[forward]") {
  Fixture f;
  auto a = f.origin("file:a", "/logs/a.log");
  auto b = f.origin("file:b", "/logs/b.log");
  f.batcher->accept(a, RawLine{"alpha", 0, 6, false});
  f.batcher->accept(b, RawLine{"beta", 0, 5, false});
  f.batcher->accept(a, RawLine{"gamma", 6, 12, true});
  boost::asio::co_spawn(f.io, f.forwarder->run(), boost::asio::detached);
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (f.sink.payloads.empty() && std::chrono::steady_clock::now() < deadline) f.io.run_for(5ms);
  REQUIRE(f.sink.payloads.size() == 1);
  v1::Batch batch;
  REQUIRE(batch.ParseFromString(f.sink.payloads[0]));
  CHECK(batch.sequence() == f.sink.written[0]);
  REQUIRE(batch.resource_size() == 2);
  CHECK(batch.resource(0).key() == "k8s.pod.name");
  CHECK(batch.resource(0).value().string_value() == "web-0");
  CHECK(batch.resource(1).key() == "team");
  REQUIRE(batch.sources_size() == 2);
  CHECK(batch.sources(0).id() == "file:a");
  CHECK(batch.sources(0).path() == "/logs/a.log");
  CHECK(batch.sources(0).end_offset() == 12);
  CHECK(batch.sources(1).id() == "file:b");
  CHECK(batch.sources(1).end_offset() == 5);
  REQUIRE(batch.entries_size() == 3);
  CHECK(batch.entries(0).body().string_value() == "alpha");
  CHECK(batch.entries(0).source_index() == 0);
  CHECK(batch.entries(0).offset() == 0);
  CHECK(batch.entries(0).observed_time_unix_nano() > 0);
  CHECK(batch.entries(1).body().string_value() == "beta");
  CHECK(batch.entries(1).source_index() == 1);
  CHECK(batch.entries(2).offset() == 6);
  REQUIRE(batch.entries(2).attributes_size() == 1);
  CHECK(batch.entries(2).attributes(0).key() == "log.truncated");
  CHECK(batch.entries(2).attributes(0).value().bool_value());
  f.forwarder->stop();
  f.io.run_for(20ms);
}

TEST_CASE("a batch is sealed when its first entry waited the batch timeout", "[forward]") {
  Fixture f;
  boost::asio::co_spawn(f.io, f.batcher->run(), boost::asio::detached);
  f.batcher->accept(f.origin("file:a", "/logs/a.log"), RawLine{"lonely", 0, 7, false});
  CHECK(f.forwarder->queued_batches() == 0);
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (f.forwarder->queued_batches() == 0 && std::chrono::steady_clock::now() < deadline) f.io.run_for(5ms);
  CHECK(f.forwarder->queued_batches() == 1);
  f.batcher->stop();
  f.io.run_for(20ms);
}

TEST_CASE("retiring an origin seals its last commit", "[forward]") {
  Fixture f;
  auto a = f.origin("file:a", "/logs/a.log");
  f.batcher->accept(a, RawLine{"one", 0, 4, false});
  a->read_offset = 9;  // e.g. a skipped tail
  f.batcher->retire(a);
  REQUIRE(f.forwarder->queued_batches() == 1);
  boost::asio::co_spawn(f.io, f.forwarder->run(), boost::asio::detached);
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (f.sink.written.empty() && std::chrono::steady_clock::now() < deadline) f.io.run_for(5ms);
  f.sink.answer({Outcome::accepted});
  while (a->acked_offset == 0 && std::chrono::steady_clock::now() < deadline) f.io.run_for(5ms);
  CHECK(a->acked_offset == 9);
  f.forwarder->stop();
  f.io.run_for(20ms);
}
