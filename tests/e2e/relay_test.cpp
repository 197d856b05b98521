// The aggregator as a relay, end to end with the real binaries: two sidecars
// send over the native protocol, the aggregator forwards everything to an
// OTLP/HTTP receiver running inside the test, which sees every entry once.
#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "support/logferry_processes.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"
#include "unit/output/test_receiver.hpp"

using namespace logferry::test;
namespace fs = std::filesystem;

namespace {

void write_lines(const fs::path& file, const std::string& tag, size_t count) {
  std::ofstream out(file, std::ios::app | std::ios::binary);
  for (size_t i = 0; i < count; ++i) out << fmt::format("{} line {:06}\n", tag, i);
}

}  // namespace

TEST_CASE("the aggregator relays 100,000 entries from two sidecars to an OTLP receiver, each once",
          "[e2e][relay]") {
  const std::string mode = GENERATE(std::string("relay_only"), std::string("store_and_forward"));
  INFO(mode);
  TempDir tmp("logferry-relay");
  std::mutex mutex;
  std::multiset<std::string> bodies;
  std::set<std::string> pods;
  std::atomic<size_t> received{0};
  TestReceiver rx;
  rx.set_default([&](const ReceivedRequest& r) {
    opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest req;
    if (r.target != "/v1/logs" || !req.ParseFromString(r.decoded)) return ScriptedReply{400, {}, "undecodable"};
    std::lock_guard lock(mutex);
    for (const auto& rl : req.resource_logs()) {
      for (const auto& kv : rl.resource().attributes())
        if (kv.key() == "k8s.pod.name") pods.insert(kv.value().string_value());
      for (const auto& sl : rl.scope_logs())
        for (const auto& rec : sl.log_records()) bodies.insert(rec.body().string_value());
      received += static_cast<size_t>(rl.scope_logs(0).log_records_size());
    }
    return ScriptedReply{};
  });
  // The first answer asks for a retry: relayed batches are held, not lost.
  rx.script({{503, {{"Retry-After", "1"}}, "warming up"}});

  Aggregator aggregator(tmp / "store", {{"LOGFERRY_AGGREGATOR_RELAY", fmt::format("otlp+http://127.0.0.1:{}", rx.port())},
                                        {"LOGFERRY_AGGREGATOR_RELAY_MODE", mode},
                                        {"LOGFERRY_OTLP_COMPRESSION", "gzip"},
                                        {"LOGFERRY_BACKOFF_INITIAL", "50ms"},
                                        {"LOGFERRY_BACKOFF_MAX", "500ms"}});
  std::vector<std::unique_ptr<Sidecar>> sidecars;
  for (const std::string pod : {"web-0", "web-1"}) {
    fs::create_directories(tmp / pod);
    write_lines(tmp / pod / "app.log", pod, 20'000);
    sidecars.push_back(std::make_unique<Sidecar>(ProcessEnv{{"LOGFERRY_FILES", (tmp / pod / "*.log").string()},
                                                            {"LOGFERRY_OUTPUT", aggregator.output()},
                                                            {"LOGFERRY_CHECKPOINT_DIR", (tmp / pod / "state").string()},
                                                            {"POD_NAME", pod},
                                                            {"POD_NAMESPACE", "shop"}}));
    sidecars.back()->start();
  }
  for (const std::string pod : {"web-0", "web-1"}) {
    std::ofstream out(tmp / pod / "app.log", std::ios::app | std::ios::binary);
    for (size_t i = 20'000; i < 50'000; ++i) out << fmt::format("{} line {:06}\n", pod, i);
  }
  REQUIRE(wait_until([&] { return received.load() >= 100'000; }, 120s, 100ms));
  for (auto& s : sidecars) CHECK(s->stop() == 0);  // every line acknowledged by the aggregator
  CHECK(aggregator.stop() == 0);

  std::lock_guard lock(mutex);
  CHECK(received.load() == 100'000);
  CHECK(bodies.size() == 100'000);
  size_t missing = 0, repeated = 0;
  for (const std::string pod : {"web-0", "web-1"}) {
    for (size_t i = 0; i < 50'000; ++i) {
      const size_t n = bodies.count(fmt::format("{} line {:06}", pod, i));
      missing += n == 0;
      repeated += n > 1;
    }
  }
  CHECK(missing == 0);
  CHECK(repeated == 0);
  CHECK(pods == std::set<std::string>{"web-0", "web-1"});
  CHECK(rx.requests().front().answered == 503);
}
