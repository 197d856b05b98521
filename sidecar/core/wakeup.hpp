#pragma once
// The wake-up of one loop (a source's read loop, the batcher, the checkpoint
// saver): it sleeps until notify() or a deadline. Unlike Event it remembers a
// notify() that came while the loop was busy (the next wait returns at once),
// and a notify() leaves the deadline's timer armed: the timer is set again
// only when the deadline changes. At the rates most Pods log (tens of writes a
// second, each one wake-up) a wake-up then costs no timer system call.
#include <chrono>
#include <cstddef>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace logferry {

class Wakeup {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit Wakeup(boost::asio::any_io_executor ex) : signal_(ex, time_point::max()), deadline_(ex) {}
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  // Suspends until notify() (one since the last wait counts) or `deadline`.
  // One waiter at a time. It always yields to the other handlers, even when
  // it returns at once (a loop on it never starves the event loop).
  boost::asio::awaitable<void> wait_until(time_point deadline = time_point::max()) {
    if (pending_ || deadline <= std::chrono::steady_clock::now()) {
      pending_ = false;
      co_await boost::asio::post(signal_.get_executor(), boost::asio::use_awaitable);
      co_return;
    }
    arm(deadline);
    waiting_ = true;
    co_await signal_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    waiting_ = false;
    pending_ = false;
  }

  // Like wait_until, but the wait also ends when `stream` has bytes, which are
  // read into `buf`: returns how many (0 when notify() or the deadline ended
  // the wait, or on an error, then in `ec`). A loop whose wake-ups mostly come
  // from one descriptor (the file source and its inotify descriptor) waits on
  // it itself: no second coroutine to read it and hand over, so a wake-up is
  // one resumption, not two with an epoll_wait(0) between them.
  template <typename Stream>
  boost::asio::awaitable<std::size_t> read_until(Stream& stream, boost::asio::mutable_buffer buf,
                                                 time_point deadline, boost::system::error_code& ec) {
    ec = {};
    if (pending_ || deadline <= std::chrono::steady_clock::now()) {
      pending_ = false;
      co_await boost::asio::post(signal_.get_executor(), boost::asio::use_awaitable);
      co_return 0;
    }
    arm(deadline);
    waiting_on_ = &stream;
    cancel_waiting_ = [](void* s) {
      boost::system::error_code ignored;
      static_cast<Stream*>(s)->cancel(ignored);
    };
    waiting_ = true;
    auto [read_ec, n] = co_await stream.async_read_some(buf, boost::asio::as_tuple(boost::asio::use_awaitable));
    waiting_ = false;
    waiting_on_ = nullptr;
    pending_ = false;
    if (read_ec != boost::asio::error::operation_aborted) ec = read_ec;
    co_return read_ec ? 0 : n;
  }

  void notify() {
    pending_ = true;
    wake_waiter();
  }

 private:
  void wake_waiter() {
    if (!waiting_) return;
    if (waiting_on_ != nullptr) {
      cancel_waiting_(waiting_on_);
    } else {
      signal_.cancel();
    }
  }

  // The deadline's timer runs on its own and only wakes the waiter: it is set
  // again only when the deadline changes. The waiter waits on signal_, which
  // never expires (no timer system call) and is cancelled to wake it.
  void arm(time_point deadline) {
    if (deadline == armed_) return;
    armed_ = deadline;
    deadline_.expires_at(deadline);  // the previous wait completes with operation_aborted
    if (deadline == time_point::max()) return;
    deadline_.async_wait([this, deadline](const boost::system::error_code& ec) {
      if (ec || armed_ != deadline) return;  // replaced, or the Wakeup is gone
      armed_ = time_point::max();
      wake_waiter();
    });
  }

  boost::asio::steady_timer signal_;
  boost::asio::steady_timer deadline_;
  time_point armed_ = time_point::max();
  void* waiting_on_ = nullptr;  // the stream read_until waits on, else signal_
  void (*cancel_waiting_)(void*) = nullptr;
  bool pending_ = false;
  bool waiting_ = false;
};

}  // namespace logferry
