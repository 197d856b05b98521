#pragma once
// The wake-up of one loop (a source's read loop, the batcher, the checkpoint
// saver): it sleeps until notify() or a deadline. Unlike Event it remembers a
// notify() that came while the loop was busy (the next wait returns at once),
// and it keeps one timer whose expiry is set only when the deadline changes:
// a wake-up costs no timer set-up of its own, which matters at the rates most
// Pods log (tens of lines a second, each write one wake-up).
#include <chrono>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace logferry {

class Wakeup {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit Wakeup(boost::asio::any_io_executor ex) : timer_(ex, time_point::max()) {}

  // Suspends until notify() (one since the last wait counts) or `deadline`.
  // One waiter at a time.
  boost::asio::awaitable<void> wait_until(time_point deadline = time_point::max()) {
    if (!pending_) {
      if (timer_.expiry() != deadline) timer_.expires_at(deadline);
      waiting_ = true;
      co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      waiting_ = false;
    }
    pending_ = false;
  }

  void notify() {
    pending_ = true;
    if (waiting_) timer_.cancel();
  }

 private:
  boost::asio::steady_timer timer_;
  bool pending_ = false;
  bool waiting_ = false;
};

}  // namespace logferry
