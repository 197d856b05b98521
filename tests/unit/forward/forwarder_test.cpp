#include "sidecar/forward/forwarder.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "unit/forward/forwarder_bench.hpp"

using namespace logferry;
using namespace std::chrono_literals;

namespace {

struct Fixture : test::ForwarderBench {
  OriginPtr origin = std::make_shared<Origin>();

  explicit Fixture(uint64_t in_flight = 8, uint64_t budget = 1 << 20) {
    config.output.max_in_flight = in_flight;
    config.output.buffer_max_bytes = budget;
    config.output.backoff_initial = 1ms;
    config.output.backoff_max = 5ms;
    config.output.ack_timeout = 10s;
    make_forwarder();
    boost::asio::co_spawn(io, forwarder->run(), boost::asio::detached);
  }
  // Queues a batch committing `end` for the origin.
  void push(uint64_t end, size_t payload = 100) {
    auto b = std::make_shared<SealedBatch>();
    b->sequence = forwarder->next_sequence();
    b->payload.assign(payload, 'p');
    b->entries = 10;
    b->commits.emplace_back(origin, end);
    forwarder->push(std::move(b));
  }
  // Runs the loop until `done` or a time bound.
  template <class F>
  bool run_until(F done, std::chrono::milliseconds bound = 2s) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (!done() && std::chrono::steady_clock::now() < deadline) io.run_for(5ms);
    return done();
  }
};

}  // namespace

TEST_CASE("acknowledged batches commit their offsets in order", "[forward]") {
  Fixture f;
  f.push(100);
  f.push(200);
  f.push(300);
  REQUIRE(f.run_until([&] { return f.sink.written.size() == 3; }));
  CHECK(f.sink.written == std::vector<uint64_t>{1, 2, 3});
  CHECK(f.origin->acked_offset == 0);  // nothing is committed before its ack
  f.sink.answer({Outcome::accepted});
  REQUIRE(f.run_until([&] { return f.origin->acked_offset == 100; }));
  f.sink.answer({Outcome::accepted, Outcome::accepted});
  REQUIRE(f.run_until([&] { return f.forwarder->queued_batches() == 0; }));
  CHECK(f.origin->acked_offset == 300);
  CHECK(f.metrics.batches_acked == 3);
  CHECK(f.metrics.entries_acked == 30);
  CHECK(f.metrics.buffer_bytes == 0);
}

TEST_CASE("after a cut connection every unacknowledged batch is re-sent in order", "[forward]") {
  Fixture f;
  f.push(100);
  f.push(200);
  f.push(300);
  REQUIRE(f.run_until([&] { return f.sink.written.size() == 3; }));
  f.sink.answer({Outcome::accepted});
  REQUIRE(f.run_until([&] { return f.origin->acked_offset == 100; }));
  f.sink.cut();
  REQUIRE(f.run_until([&] { return f.sink.written.size() == 5; }));
  CHECK(f.sink.written == std::vector<uint64_t>{1, 2, 3, 2, 3});
  CHECK(f.sink.opens == 2);
  CHECK(f.metrics.reconnects == 1);
  CHECK(f.metrics.batches_retried == 2);
  f.sink.answer({Outcome::accepted, Outcome::accepted});
  REQUIRE(f.run_until([&] { return f.forwarder->queued_batches() == 0; }));
  CHECK(f.origin->acked_offset == 300);
}

TEST_CASE("an unreachable output is retried with backoff and nothing is lost", "[forward]") {
  Fixture f;
  f.sink.refuse_opens = 3;
  f.push(100);
  REQUIRE(f.run_until([&] { return f.sink.written.size() == 1; }));
  CHECK(f.sink.opens == 4);
  CHECK(f.metrics.connect_failures == 3);
  f.sink.answer({Outcome::accepted});
  REQUIRE(f.run_until([&] { return f.origin->acked_offset == 100; }));
}

TEST_CASE("a rejected batch is committed and counted, never re-sent", "[forward]") {
  Fixture f;
  f.push(100);
  f.push(200);
  REQUIRE(f.run_until([&] { return f.sink.written.size() == 2; }));
  f.sink.answer({Outcome::rejected, Outcome::accepted});
  REQUIRE(f.run_until([&] { return f.forwarder->queued_batches() == 0; }));
  CHECK(f.metrics.batches_rejected == 1);
  CHECK(f.metrics.batches_acked == 1);
  CHECK(f.origin->acked_offset == 200);
  CHECK(f.sink.written.size() == 2);
}

TEST_CASE("at most max-in-flight batches wait for their acks", "[forward]") {
  Fixture f(2);
  for (int i = 1; i <= 6; ++i) f.push(static_cast<uint64_t>(i) * 100);
  REQUIRE(f.run_until([&] { return f.sink.written.size() == 2; }));
  f.io.run_for(20ms);
  CHECK(f.sink.written.size() == 2);
  f.sink.answer({Outcome::accepted, Outcome::accepted, Outcome::accepted, Outcome::accepted, Outcome::accepted,
                 Outcome::accepted});
  REQUIRE(f.run_until([&] { return f.forwarder->queued_batches() == 0; }));
  CHECK(f.sink.max_seen_in_flight == 2);
  CHECK(f.origin->acked_offset == 600);
}

TEST_CASE("the memory budget reports full until acks free it", "[forward]") {
  Fixture f(8, 1000);
  f.push(100, 600);
  CHECK_FALSE(f.forwarder->full());
  f.push(200, 600);
  CHECK(f.forwarder->full());
  REQUIRE(f.run_until([&] { return f.sink.written.size() == 2; }));
  f.sink.answer({Outcome::accepted});
  REQUIRE(f.run_until([&] { return !f.forwarder->full(); }));
}

TEST_CASE("drain waits for the last ack, or gives up at the deadline", "[forward]") {
  Fixture f;
  f.push(100);
  bool drained = false;
  bool finished = false;
  boost::asio::co_spawn(
      f.io,
      [&]() -> boost::asio::awaitable<void> {
        drained = co_await f.forwarder->drain(std::chrono::steady_clock::now() + 2s);
        finished = true;
      },
      boost::asio::detached);
  REQUIRE(f.run_until([&] { return f.sink.written.size() == 1; }));
  CHECK_FALSE(finished);
  f.sink.answer({Outcome::accepted});
  REQUIRE(f.run_until([&] { return finished; }));
  CHECK(drained);

  f.push(200);
  finished = false;
  boost::asio::co_spawn(
      f.io,
      [&]() -> boost::asio::awaitable<void> {
        drained = co_await f.forwarder->drain(std::chrono::steady_clock::now() + 50ms);
        finished = true;
      },
      boost::asio::detached);
  REQUIRE(f.run_until([&] { return finished; }));
  CHECK_FALSE(drained);
}
