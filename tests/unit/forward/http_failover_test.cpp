// Failover between several HTTP outputs (LOGFERRY_OUTPUT=a,b): a refused first
// output, one that dies mid-stream, one that comes back. The HTTP sink stays on
// the output that worked last and walks on (wrapping around) only when it fails.
// Every batch is accepted exactly once somewhere; nothing is retried forever.
#include "sidecar/forward/http_sink.hpp"

#include <map>
#include <memory>

#include <catch2/catch.hpp>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "unit/forward/output_harness.hpp"

using namespace logferry;
using namespace logferry::test;

namespace {

// A port on 127.0.0.1 nothing listens on right now.
uint16_t closed_port() {
  auto rx = std::make_unique<TestReceiver>();
  const uint16_t port = rx->port();
  rx.reset();
  return port;
}

std::string output_of(uint16_t port) { return "otlp+http://127.0.0.1:" + std::to_string(port); }

// Counts, per batch tag, the bodies the receivers accepted (answered 2xx).
void count_accepted(const TestReceiver& rx, std::map<std::string, int>& accepted) {
  for (const auto& r : rx.requests()) {
    if (r.answered < 200 || r.answered > 299) continue;
    opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest req;
    REQUIRE(req.ParseFromString(r.decoded));
    ++accepted[req.resource_logs(0).scope_logs(0).log_records(0).body().string_value()];
  }
}

size_t accepted_requests(const TestReceiver& rx) {
  size_t n = 0;
  for (const auto& r : rx.requests()) n += r.answered == 200;
  return n;
}

}  // namespace

TEST_CASE("HTTP failover: a refused first output, the second takes everything at once", "[output][failover]") {
  const uint16_t dead = closed_port();
  TestReceiver live;
  OutputHarness h(output_of(dead) + "," + output_of(live.port()));
  for (int i = 1; i <= 5; ++i) h.push(plain_batch("b" + std::to_string(i), 3), 100u * i);
  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 500; }));
  std::map<std::string, int> accepted;
  count_accepted(live, accepted);
  CHECK(accepted == std::map<std::string, int>{{"b1 0", 1}, {"b2 0", 1}, {"b3 0", 1}, {"b4 0", 1}, {"b5 0", 1}});
  // The refusal was passed over within the same attempt: no failed connect, no backoff, no re-send.
  CHECK(h.metrics.connect_failures == 0);
  CHECK(h.metrics.batches_retried == 0);
  CHECK(live.connections() == 1);
}

TEST_CASE("HTTP failover: the first output dies mid-stream, the rest goes to the second", "[output][failover]") {
  auto first = std::make_unique<TestReceiver>();
  TestReceiver second;
  ScriptedReply cut;
  cut.cut = true;
  cut.die = true;  // the receiver stops listening before it cuts: the sink's reconnect is refused
  first->script({{}, {}, cut});  // two batches accepted, the third cut mid-request
  OutputHarness h(output_of(first->port()) + "," + output_of(second.port()));
  for (int i = 1; i <= 6; ++i) h.push(plain_batch("b" + std::to_string(i), 50), 100u * i);
  REQUIRE(h.run_until([&] { return first->request_count() == 3; }));
  std::map<std::string, int> accepted;
  count_accepted(*first, accepted);
  CHECK(first->requests().back().answered == 0);

  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 600; }));
  h.run_for(100ms);
  count_accepted(second, accepted);
  CHECK(accepted == std::map<std::string, int>{{"b1 0", 1}, {"b2 0", 1}, {"b3 0", 1}, {"b4 0", 1}, {"b5 0", 1},
                                               {"b6 0", 1}});
  CHECK(second.request_count() == 4);  // b3 (re-sent once) to b6, no more
  CHECK(h.metrics.batches_retried == 1);
  CHECK(h.metrics.entries_acked == 300);
}

TEST_CASE("HTTP failover: the sink stays on the output that works and comes back when it fails",
          "[output][failover]") {
  auto first = std::make_unique<TestReceiver>();
  const uint16_t first_port = first->port();
  auto second = std::make_unique<TestReceiver>();
  OutputHarness h(output_of(first_port) + "," + output_of(second->port()));
  h.push(plain_batch("b1", 3), 100);
  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 100; }));
  CHECK(accepted_requests(*first) == 1);

  first.reset();  // the first output dies between batches: the next one goes to the second
  h.push(plain_batch("b2", 3), 200);
  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 200; }));
  CHECK(accepted_requests(*second) == 1);

  // The first output is back on its port: the sink stays with the second while it works.
  first = std::make_unique<TestReceiver>(ReceiverOptions{false, std::nullopt, first_port});
  h.push(plain_batch("b3", 3), 300);
  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 300; }));
  CHECK(accepted_requests(*second) == 2);
  CHECK(first->request_count() == 0);

  // Now the second dies: the sink wraps around to the first again.
  second.reset();
  h.push(plain_batch("b4", 3), 400);
  h.push(plain_batch("b5", 3), 500);
  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 500; }));
  std::map<std::string, int> accepted;
  count_accepted(*first, accepted);
  CHECK(accepted == std::map<std::string, int>{{"b4 0", 1}, {"b5 0", 1}});
  CHECK(h.metrics.batches_rejected == 0);
  CHECK(h.metrics.entries_acked == 15);
}

TEST_CASE("HTTP failover: with every output down the batches wait, then all arrive once",
          "[output][failover]") {
  const uint16_t a = closed_port();
  const uint16_t b = closed_port();
  OutputHarness h(output_of(a) + "," + output_of(b));
  for (int i = 1; i <= 3; ++i) h.push(plain_batch("b" + std::to_string(i), 3), 100u * i);
  REQUIRE(h.run_until([&] { return h.metrics.connect_failures >= 3; }));
  CHECK(h.origin->acked_offset == 0);  // nothing committed while nothing was delivered
  TestReceiver back(ReceiverOptions{false, std::nullopt, b});
  REQUIRE(h.run_until([&] { return h.origin->acked_offset == 300; }));
  std::map<std::string, int> accepted;
  count_accepted(back, accepted);
  CHECK(accepted == std::map<std::string, int>{{"b1 0", 1}, {"b2 0", 1}, {"b3 0", 1}});
  CHECK(h.metrics.batches_retried == 0);  // nothing was ever written before
}
