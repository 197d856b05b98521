// The relay from the durable store, end to end with the real binaries and the
// in-test Loki (LokiFake: exact duplicates dropped, forward queries by time):
// - a sidecar sends 60,000 lines to an aggregator relaying to Loki; the
//   aggregator is SIGKILLed twice mid-stream and restarted: every line reaches
//   Loki once, in file order (the relay resumes from its saved cursors, and
//   what it sends again carries the same timestamps and lines);
// - two aggregators relaying to one Loki, the sidecar listing both: the first
//   is killed mid-stream, the sidecar moves to the second; once the first is
//   back (its volume kept, like a StatefulSet's) every line is in Loki once;
// - the relay to another aggregator over the native protocol (tcp://): every
//   line stored there once;
// - the downstream down for a while with a store size cap: the store fills to
//   its cap, the sidecar is slowed (not dropped), and once the downstream is
//   back the store drains in order, every line once, the retention deleting
//   only relayed segments.
#include <csignal>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "delivery_lines_test.hpp"
#include "support/http_client.hpp"
#include "support/loki_fake.hpp"
#include "support/otlp_logs_receiver.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace logferry::test;
namespace fs = std::filesystem;

namespace {

ProcessEnv relay_to(const LokiFake& loki) {
  return {{"LOGFERRY_AGGREGATOR_RELAY", fmt::format("loki+http://127.0.0.1:{}", loki.port())},
          {"LOGFERRY_LOKI_LABELS", "pod,filename"},
          {"LOGFERRY_BACKOFF_INITIAL", "50ms"},
          {"LOGFERRY_BACKOFF_MAX", "500ms"}};
}

void kill9(Aggregator& aggregator) {
  aggregator.process().kill(SIGKILL);
  aggregator.process().wait_for_exit(10s);
  aggregator.restart();  // same data directory, same port
}

// Every written line in Loki exactly once, each file's lines in the order written.
void check_loki(const LokiFake& loki, const Written& written) {
  size_t expected = 0;
  for (const auto& [file, lines] : written) {
    expected += lines.size();
    const auto stored = loki.query_forward(fmt::format("filename=\"{}\"", fs::path(file).filename().string()));
    std::vector<std::string> got;
    for (const auto& e : stored) got.push_back(e.line);
    INFO(file);
    CHECK(got.size() == lines.size());
    size_t first_diff = 0;
    while (first_diff < got.size() && first_diff < lines.size() && got[first_diff] == lines[first_diff]) ++first_diff;
    INFO("first difference at line " << first_diff);
    CHECK(got == lines);
  }
  CHECK(loki.stored() == expected);
  CHECK(loki.undecodable() == 0);
}

}  // namespace

TEST_CASE("relay from the store: 60,000 lines reach Loki once and in order through two SIGKILLs of the aggregator",
          "[e2e][relay]") {
  TempDir tmp("logferry-relay-store");
  fs::create_directories(tmp / "logs");
  LokiFake loki;
  Aggregator aggregator(tmp / "store", relay_to(loki));
  Written written;
  auto& a = written[(tmp / "logs" / "a.log").string()];
  auto& b = written[(tmp / "logs" / "b.log").string()];
  append_lines(tmp / "logs" / "a.log", a, 10'000, "a");
  append_lines(tmp / "logs" / "b.log", b, 10'000, "b");
  ProcessEnv env = sidecar_env(tmp.path(), aggregator.output());
  env["LOGFERRY_BATCH_MAX_ENTRIES"] = "500";
  Sidecar sidecar(env);
  sidecar.start();
  for (int round = 0; round < 2; ++round) {
    const size_t before = loki.stored();
    REQUIRE(wait_until([&] { return loki.stored() >= before + 2'000; }, 60s, 5ms));
    kill9(aggregator);  // mid-stream: stored lines not relayed yet, relayed batches not in a saved cursor
    append_lines(tmp / "logs" / "a.log", a, 10'000, "a");
    append_lines(tmp / "logs" / "b.log", b, 10'000, "b");
  }
  REQUIRE(wait_until([&] { return loki.stored() >= 60'000; }, 120s, 50ms));
  CHECK(sidecar.stop() == 0);
  CHECK(aggregator.stop() == 0);
  check_loki(loki, written);
}

TEST_CASE("two aggregators relaying to one Loki: a sidecar moved from the first (killed) to the second leaves "
          "every line in Loki once",
          "[e2e][relay]") {
  TempDir tmp("logferry-relay-two");
  fs::create_directories(tmp / "logs");
  LokiFake loki;
  Aggregator first(tmp / "store-0", relay_to(loki));
  Aggregator second(tmp / "store-1", relay_to(loki));
  Written written;
  auto& a = written[(tmp / "logs" / "a.log").string()];
  append_lines(tmp / "logs" / "a.log", a, 10'000, "a");
  ProcessEnv env = sidecar_env(tmp.path(), first.output() + "," + second.output());
  env["LOGFERRY_BATCH_MAX_ENTRIES"] = "500";
  Sidecar sidecar(env);
  sidecar.start();
  REQUIRE(wait_until([&] { return loki.stored() >= 2'000; }, 60s, 5ms));
  first.process().kill(SIGKILL);  // the sidecar fails over to the second
  first.process().wait_for_exit(10s);
  append_lines(tmp / "logs" / "a.log", a, 10'000, "a");
  REQUIRE(wait_until([&] { return count_stored(tmp / "store-1") >= 10'000; }, 60s, 50ms));
  first.restart();  // back with its store: it relays what it had acknowledged
  REQUIRE(wait_until([&] { return loki.stored() >= 20'000; }, 120s, 50ms));
  CHECK(sidecar.stop() == 0);
  CHECK(first.stop() == 0);
  CHECK(second.stop() == 0);
  check_loki(loki, written);
}

TEST_CASE("relay from the store: the downstream down for a while, the store at its cap slows the sidecar; back up, "
          "the store drains in order, each line once",
          "[e2e][relay]") {
  TempDir tmp("logferry-relay-down");
  fs::create_directories(tmp / "logs");
  OtlpLogsReceiver rx;
  rx.set_down(true);
  Aggregator aggregator(tmp / "store", {{"LOGFERRY_AGGREGATOR_RELAY", fmt::format("otlp+http://127.0.0.1:{}", rx.port())},
                                        {"LOGFERRY_AGGREGATOR_HTTP_ADDR", "127.0.0.1:0"},
                                        {"LOGFERRY_AGGREGATOR_SEGMENT_MAX_BYTES", "128KiB"},
                                        {"LOGFERRY_AGGREGATOR_RETENTION_MAX_BYTES", "1MiB"},
                                        {"LOGFERRY_BACKOFF_INITIAL", "50ms"},
                                        {"LOGFERRY_BACKOFF_MAX", "300ms"}});
  const uint16_t http = aggregator.http_port();

  Written written;
  auto& a = written[(tmp / "logs" / "a.log").string()];
  auto& b = written[(tmp / "logs" / "b.log").string()];
  append_lines(tmp / "logs" / "a.log", a, 10'000, "a");
  append_lines(tmp / "logs" / "b.log", b, 10'000, "b");
  ProcessEnv env = sidecar_env(tmp.path(), aggregator.output());
  env["LOGFERRY_BATCH_MAX_ENTRIES"] = "500";
  Sidecar sidecar(env);
  sidecar.start();
  // About 7 MB of ndjson cannot fit under the 1 MiB cap: the store fills and the sidecar waits.
  REQUIRE(wait_until([&] { return metrics_sample(http, "logferry_aggregator_store_full") == 1; }, 60s, 50ms));
  const long long stored_while_down = metrics_sample(http, "logferry_aggregator_entries_stored_total");
  CHECK(stored_while_down > 0);
  CHECK(stored_while_down < 20'000);
  CHECK(metrics_sample(http, "logferry_aggregator_store_bytes") >= 1 << 20);
  CHECK(metrics_sample(http, "logferry_aggregator_relay_lag_entries") == stored_while_down);
  CHECK(metrics_sample(http, "logferry_aggregator_retention_segments_deleted_total") == 0);
  rx.set_down(false);
  REQUIRE(wait_until([&] { return rx.count() >= 20'000; }, 120s, 50ms));
  REQUIRE(wait_until([&] { return metrics_sample(http, "logferry_aggregator_relay_lag_entries") == 0; }, 20s, 50ms));
  // The retention runs every 200 ms while the store is full: relayed segments go.
  CHECK(wait_until([&] { return metrics_sample(http, "logferry_aggregator_store_full") == 0; }, 10s, 50ms));
  CHECK(metrics_sample(http, "logferry_aggregator_retention_segments_deleted_total") > 0);
  CHECK(metrics_sample(http, "logferry_aggregator_retention_unrelayed_entries_deleted_total") == 0);
  CHECK(metrics_sample(http, "logferry_aggregator_store_bytes") <= 1 << 20);
  CHECK(sidecar.stop() == 0);
  CHECK(aggregator.stop() == 0);
  const std::vector<std::string> bodies = rx.bodies();  // in the order the downstream accepted them
  CHECK(bodies.size() == 20'000);
  for (const auto& [file, lines] : written) {
    const std::string tag = fs::path(file).stem().string() + " line ";
    std::vector<std::string> got;
    for (const auto& body : bodies)
      if (body.starts_with(tag)) got.push_back(body);
    INFO(file);
    CHECK(got == lines);
  }
}

TEST_CASE("relay from the store to another aggregator over the native protocol: every line stored there once",
          "[e2e][relay]") {
  TempDir tmp("logferry-relay-native");
  fs::create_directories(tmp / "logs");
  Aggregator central(tmp / "central");
  Aggregator edge(tmp / "edge", {{"LOGFERRY_AGGREGATOR_RELAY", central.output()}});
  Written written;
  append_lines(tmp / "logs" / "a.log", written[(tmp / "logs" / "a.log").string()], 5'000, "a");
  append_lines(tmp / "logs" / "b.log", written[(tmp / "logs" / "b.log").string()], 5'000, "b");
  Sidecar sidecar(sidecar_env(tmp.path(), edge.output()));
  sidecar.start();
  REQUIRE(wait_until([&] { return count_stored(tmp / "central") >= 10'000; }, 60s, 50ms));
  CHECK(sidecar.stop() == 0);
  CHECK(edge.stop() == 0);
  CHECK(central.stop() == 0);
  const DeliveryCheck c = check_delivery(read_store(tmp / "central"), written);
  CHECK(c.missing == 0);
  CHECK(c.duplicates == 0);
  CHECK(c.out_of_order == 0);
  CHECK(c.stored == 10'000);
}
