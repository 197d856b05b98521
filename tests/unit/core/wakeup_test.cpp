#include "sidecar/core/wakeup.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

using namespace logferry;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Runs `io` until `done` or two seconds passed.
void run_until(boost::asio::io_context& io, const bool& done) {
  const auto deadline = Clock::now() + 2s;
  while (!done && Clock::now() < deadline) io.run_for(5ms);
}

}  // namespace

TEST_CASE("a wake-up sleeps until its deadline", "[core]") {
  boost::asio::io_context io;
  Wakeup wake(io.get_executor());
  bool done = false;
  const auto start = Clock::now();
  Clock::time_point woke;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        co_await wake.wait_until(start + 50ms);
        woke = Clock::now();
        done = true;
      },
      boost::asio::detached);
  run_until(io, done);
  REQUIRE(done);
  CHECK(woke >= start + 50ms);
}

TEST_CASE("notify wakes the waiter long before its deadline", "[core]") {
  boost::asio::io_context io;
  Wakeup wake(io.get_executor());
  bool done = false;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        co_await wake.wait_until();  // no deadline
        done = true;
      },
      boost::asio::detached);
  io.run_for(20ms);
  CHECK_FALSE(done);
  wake.notify();
  run_until(io, done);
  CHECK(done);
}

TEST_CASE("a notify while nobody waits is kept for the next wait, once", "[core]") {
  boost::asio::io_context io;
  Wakeup wake(io.get_executor());
  wake.notify();
  wake.notify();  // the two count once
  int waits = 0;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        co_await wake.wait_until();
        ++waits;                                     // at once: the notify was remembered
        co_await wake.wait_until(Clock::now() + 1h);  // nothing pending any more: sleeps
        ++waits;
      },
      boost::asio::detached);
  io.run_for(50ms);
  CHECK(waits == 1);
}
