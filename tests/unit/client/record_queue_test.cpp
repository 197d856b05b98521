#include "sidecar/client/record_queue.hpp"

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "sidecar/client/client_settings.hpp"

using namespace logferry;

namespace {
Record record(std::string body) {
  Record r;
  r.body = std::move(body);
  return r;
}
}  // namespace

TEST_CASE("record queue: offsets in push order, a wake-up only for an empty queue, drops when full", "[client]") {
  RecordQueue q(3);
  CHECK(q.push(record("a")) == PushResult::queued_wake);
  CHECK(q.push(record("b")) == PushResult::queued);
  CHECK(q.push(record("c")) == PushResult::queued);
  CHECK(q.push(record("d")) == PushResult::dropped);
  CHECK(q.next_offset() == 3);
  std::vector<Record> out;
  CHECK(q.take(out, 2) == 2);
  CHECK(q.push(record("e")) == PushResult::queued);  // not emptied: no new wake-up
  CHECK(q.take(out, 10) == 2);
  REQUIRE(out.size() == 4);
  CHECK(out[0].body == "a");
  CHECK(out[0].offset == 0);
  CHECK(out[3].body == "e");
  CHECK(out[3].offset == 3);
  CHECK(q.push(record("f")) == PushResult::queued_wake);  // emptied: wake again
  q.close();
  CHECK(q.push(record("g")) == PushResult::dropped);
  CHECK(q.logged() == 7);
  CHECK(q.accepted() == 5);
  CHECK(q.dropped() == 2);
}

TEST_CASE("record queue: pushes from several threads are all counted", "[client]") {
  RecordQueue q(1000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) q.push(record("x"));
    });
  for (auto& t : threads) t.join();
  CHECK(q.logged() == 20000);
  CHECK(q.accepted() == 1000);
  CHECK(q.dropped() == 19000);
  CHECK(q.size() == 1000);
}

TEST_CASE("client settings: every problem reported at once, named by its variable", "[client]") {
  ClientConfig c;
  c.settings["LOGFERRY_CLIENT_QUEUE_ENTRIES"] = "0";
  c.settings["LOGFERRY_BATCH_TIMEOUT"] = "soon";
  c.settings["LOGFERRY_FILES"] = "/var/log/*.log";  // a source setting: ignored by a client
  try {
    make_client_settings(c);
    FAIL("expected std::invalid_argument");
  } catch (const std::invalid_argument& e) {
    const std::string text = e.what();
    CHECK_THAT(text, Catch::Contains("LOGFERRY_CLIENT_QUEUE_ENTRIES=\"0\": expected a whole number from 1 to 100000000"));
    CHECK_THAT(text, Catch::Contains("LOGFERRY_BATCH_TIMEOUT=\"soon\""));
    CHECK_THAT(text, Catch::Contains("LOGFERRY_OUTPUT"));
    CHECK_THAT(text, !Catch::Contains("LOGFERRY_FILES"));
  }
  c.settings.erase("LOGFERRY_BATCH_TIMEOUT");
  c.settings["LOGFERRY_CLIENT_QUEUE_ENTRIES"] = "128";
  c.output = "tcp://127.0.0.1:7070";
  const ClientSettings s = make_client_settings(c);
  CHECK(s.queue_max_entries == 128);
  CHECK(s.output.outputs.size() == 1);
  CHECK(s.source_name == "library");
}
