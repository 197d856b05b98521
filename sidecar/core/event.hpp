#pragma once
// A one-thread wake-up signal for coroutines, built on a steady_timer that never
// expires by itself: notify() cancels it, which wakes every waiter.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace logferry {

namespace asio = boost::asio;

class Event {
 public:
  explicit Event(asio::any_io_executor ex) : timer_(ex, asio::steady_timer::time_point::max()) {}

  // Suspends until notify() is called (or the awaiting coroutine is cancelled).
  asio::awaitable<void> wait() {
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  // Suspends until notify() or until `d` elapsed, whichever comes first.
  asio::awaitable<void> wait_for(asio::steady_timer::duration d) {
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer deadline(timer_.get_executor(), d);
    co_await (wait() || deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
  }

  // Wakes every current waiter; later waiters wait for the next notify().
  void notify() { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
};

}  // namespace logferry
