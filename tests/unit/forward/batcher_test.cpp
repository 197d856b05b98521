#include "sidecar/forward/batcher.hpp"

#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "unit/forward/forwarder_bench.hpp"

using namespace logferry;
using namespace std::chrono_literals;

namespace {

struct Fixture : test::ForwarderBench {
  std::unique_ptr<ParseStage> parse;
  std::unique_ptr<Batcher> batcher;

  Fixture() {
    config.batch.max_entries = 3;
    config.batch.max_bytes = 1 << 20;
    config.batch.timeout = 50ms;
    config.output.buffer_max_bytes = 4 << 20;
    config.output.max_in_flight = 8;
    config.identity.pod_name = "web-0";
    config.identity.labels = {{"team", "shop"}};
    config.parse.parser = "plain";
    make_forwarder();
    parse = std::make_unique<ParseStage>(config.parse, &metrics.multiline_records);
    batcher = std::make_unique<Batcher>(io.get_executor(), config.batch, *parse, config.identity.resource_labels(),
                                        *forwarder, metrics);
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

TEST_CASE("a source that held its reads seals the batch once it is due, not before", "[forward]") {
  Fixture f;
  auto a = f.origin("file:a", "/logs/a.log");
  CHECK(f.batcher->batch_due() == std::chrono::steady_clock::time_point::max());  // no batch open
  const auto before = std::chrono::steady_clock::now();
  f.batcher->accept(a, RawLine{"alpha", 0, 6, false});
  const auto due = f.batcher->batch_due();
  CHECK(due >= before + 50ms);
  CHECK(due <= std::chrono::steady_clock::now() + 50ms);
  f.batcher->seal_due();  // not due yet
  CHECK(f.forwarder->queued_batches() == 0);
  const auto limit = std::chrono::steady_clock::now() + 2s;
  while (std::chrono::steady_clock::now() < due && std::chrono::steady_clock::now() < limit) {
    std::this_thread::sleep_for(5ms);
  }
  f.batcher->seal_due();
  CHECK(f.forwarder->queued_batches() == 1);
  CHECK(f.batcher->batch_due() == std::chrono::steady_clock::time_point::max());
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

namespace {

// Runs the forwarder until the sink got `n` batches, and decodes them.
std::vector<v1::Batch> delivered(Fixture& f, size_t n) {
  boost::asio::co_spawn(f.io, f.forwarder->run(), boost::asio::detached);
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (f.sink.payloads.size() < n && std::chrono::steady_clock::now() < deadline) f.io.run_for(5ms);
  std::vector<v1::Batch> out(f.sink.payloads.size());
  for (size_t i = 0; i < out.size(); ++i) REQUIRE(out[i].ParseFromString(f.sink.payloads[i]));
  return out;
}

}  // namespace

TEST_CASE("entries of one source get strictly increasing observed times in file order, one per line", "[forward][order]") {
  Fixture f;
  f.config.batch.max_entries = 100;
  auto a = f.origin("file:a", "/logs/a.log");
  auto b = f.origin("file:b", "/logs/b.log");
  // One event-loop turn: the batcher reads the clock once for all of them.
  uint64_t offset = 0;
  for (int i = 0; i < 20; ++i) {
    f.batcher->accept(a, RawLine{"same turn", offset, offset + 10, false});
    f.batcher->accept(b, RawLine{"same turn", offset, offset + 10, false});
    offset += 10;
  }
  f.batcher->flush_all();
  const auto batches = delivered(f, 1);
  REQUIRE(batches.size() == 1);
  uint64_t last[2] = {0, 0};
  for (const auto& e : batches[0].entries()) {
    CHECK(e.observed_time_unix_nano() > last[e.source_index()]);
    last[e.source_index()] = e.observed_time_unix_nano();
  }
}

TEST_CASE("a line read earlier (replayed from the spill) keeps its read time as the observed time", "[forward][order]") {
  Fixture f;
  auto a = f.origin("pipe:a", "/run/app.pipe");
  RawLine spilled{"spilled", 0, 8, false};
  spilled.read_unix_nano = 1'700'000'000'123'456'789;
  f.batcher->accept(a, spilled);
  f.batcher->accept(a, RawLine{"now", 8, 12, false});
  f.batcher->flush_all();
  const auto batches = delivered(f, 1);
  REQUIRE(batches.size() == 1);
  REQUIRE(batches[0].entries_size() == 2);
  CHECK(batches[0].entries(0).observed_time_unix_nano() == 1'700'000'000'123'456'789);
  CHECK(batches[0].entries(1).observed_time_unix_nano() > 1'700'000'000'123'456'789);
}

TEST_CASE("second-resolution event times of one source tie in file order, on both parser paths", "[forward][order]") {
  Fixture f;
  f.config.batch.max_entries = 100;
  // json: the wire fast path; logfmt: a filled message, serialized.
  const std::string parser = GENERATE(std::string("json"), std::string("logfmt"));
  INFO(parser);
  f.config.parse.parser = parser;
  auto a = f.origin("file:a", "/logs/a.log");
  const uint64_t t = 1'767'225'600ull * 1'000'000'000;  // 2026-01-01T00:00:00Z
  const char* json[] = {R"({"time":"2026-01-01T00:00:00Z","msg":"z first"})", R"({"time":"2026-01-01T00:00:00Z","msg":"y second"})",
                        R"({"time":"2026-01-01T00:00:00Z","msg":"x third"})", R"({"time":"2026-01-01T00:00:01Z","msg":"w fourth"})"};
  const char* logfmt[] = {"time=2026-01-01T00:00:00Z msg=\"z first\"", "time=2026-01-01T00:00:00Z msg=\"y second\"",
                          "time=2026-01-01T00:00:00Z msg=\"x third\"", "time=2026-01-01T00:00:01Z msg=\"w fourth\""};
  uint64_t offset = 0;
  for (int i = 0; i < 4; ++i) {
    const std::string_view line = parser == "json" ? json[i] : logfmt[i];
    f.batcher->accept(a, RawLine{line, offset, offset + line.size() + 1, false});
    offset += line.size() + 1;
  }
  f.batcher->flush_all();
  const auto batches = delivered(f, 1);
  REQUIRE(batches.size() == 1);
  REQUIRE(batches[0].entries_size() == 4);
  CHECK(batches[0].entries(0).time_unix_nano() == t);
  CHECK(batches[0].entries(1).time_unix_nano() == t + 1);
  CHECK(batches[0].entries(2).time_unix_nano() == t + 2);
  CHECK(batches[0].entries(3).time_unix_nano() == t + 1'000'000'000);
  CHECK(batches[0].entries(1).body().string_value() == "y second");
}

namespace {

// A MetadataSource the test steers: what lookup() answers and when the version moves.
class ScriptedMetadata final : public MetadataSource {
 public:
  uint64_t version() const override { return version_; }
  OriginMetadata lookup(const Origin&) const override {
    ++lookups;
    return answer;
  }
  void change(OriginMetadata m) {
    answer = std::move(m);
    ++version_;
  }
  OriginMetadata answer;
  mutable int lookups = 0;

 private:
  uint64_t version_ = 1;
};

// The batches the fake sink received, decoded.
std::vector<v1::Batch> sent_batches(Fixture& f, size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (f.sink.payloads.size() < n && std::chrono::steady_clock::now() < deadline) f.io.run_for(5ms);
  std::vector<v1::Batch> out(f.sink.payloads.size());
  for (size_t i = 0; i < out.size(); ++i) REQUIRE(out[i].ParseFromString(f.sink.payloads[i]));
  return out;
}

std::string resource_value(const v1::Source& s, std::string_view key) {
  for (const auto& kv : s.resource())
    if (kv.key() == key) return kv.value().string_value();
  return "<absent>";
}

}  // namespace

TEST_CASE("node mode: a file's Pod metadata is looked up once per batch, excluded lines are dropped and "
          "counted, a Pod gone from the cache keeps its last labels on its files",
          "[forward][kube]") {
  Fixture f;
  ScriptedMetadata pods;
  OriginMetadata web;
  web.known = true;
  web.resource = {{"k8s.pod.uid", "uid-1"}, {"k8s.pod.label.app", "web"}};
  pods.answer = web;
  f.batcher->set_metadata(&pods);
  boost::asio::co_spawn(f.io, f.forwarder->run(), boost::asio::detached);
  auto a = f.origin("file:a", "/var/log/containers/a.log");
  a->resource = {{"k8s.pod.name", "web-0"}};

  f.batcher->accept(a, RawLine{"one", 0, 4, false});
  f.batcher->accept(a, RawLine{"two", 4, 8, false});
  f.batcher->accept(a, RawLine{"three", 8, 14, false});  // the entry limit (3) seals
  CHECK(pods.lookups == 1);                              // once for the batch, not per line

  OriginMetadata excluded = web;
  excluded.exclude = true;
  pods.change(excluded);
  f.batcher->accept(a, RawLine{"secret", 14, 21, false});
  CHECK(f.metrics.dropped_lines["excluded"] == 1);

  pods.change(web);  // the annotation removed
  f.batcher->accept(a, RawLine{"four", 21, 26, false});
  f.batcher->accept(a, RawLine{"five", 26, 31, false});
  f.batcher->accept(a, RawLine{"six", 31, 35, false});
  pods.change(OriginMetadata{});  // the Pod left the cache (deleted a while ago)
  f.batcher->accept(a, RawLine{"seven", 35, 41, false});
  f.batcher->flush_all();
  CHECK(f.metrics.lines_without_metadata == 0);

  const auto batches = sent_batches(f, 3);
  REQUIRE(batches.size() == 3);
  for (const auto& b : batches) {
    REQUIRE(b.sources_size() == 1);
    CHECK(resource_value(b.sources(0), "k8s.pod.name") == "web-0");
    CHECK(resource_value(b.sources(0), "k8s.pod.label.app") == "web");
    CHECK(resource_value(b.sources(0), "k8s.pod.uid") == "uid-1");
  }
  CHECK(batches[1].entries(0).body().string_value() == "four");  // "secret" never sent
  CHECK(batches[2].entries(0).body().string_value() == "seven");
  CHECK(batches[2].sources(0).end_offset() == 41);

  // A file whose Pod was never known: its lines go out with the file's labels, counted.
  auto b = f.origin("file:b", "/var/log/containers/b.log");
  f.batcher->accept(b, RawLine{"unknown", 0, 8, false});
  CHECK(f.metrics.lines_without_metadata == 1);
  f.forwarder->stop();
  f.io.run_for(20ms);
}
