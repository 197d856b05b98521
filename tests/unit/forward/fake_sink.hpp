#pragma once
// A scripted Sink for delivery tests: records what is written, answers with
// reports the test queues, and can fail a session on demand.
#include <deque>
#include <memory>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "sidecar/core/errors.hpp"
#include "sidecar/core/event.hpp"
#include "sidecar/forward/sink.hpp"

namespace logferry::test {

class FakeSink final : public Sink {
 public:
  explicit FakeSink(boost::asio::any_io_executor ex) : ex_(ex), event_(ex) {}

  struct Session final : SinkSession {
    FakeSink& sink;
    explicit Session(FakeSink& s) : sink(s) {}
    boost::asio::awaitable<boost::system::error_code> write(const SealedBatch& b) override {
      if (sink.fail_writes) co_return make_error_code(Errc::closed);
      sink.written.push_back(b.sequence);
      sink.payloads.push_back(b.payload);
      sink.in_flight.push_back(b.sequence);
      sink.max_seen_in_flight = std::max(sink.max_seen_in_flight, sink.in_flight.size());
      sink.event_.notify();
      co_return boost::system::error_code{};
    }
    boost::asio::awaitable<boost::system::result<DeliveryReport>> read_report() override {
      while (true) {
        if (closed || sink.break_session) {
          sink.break_session = false;
          co_return make_error_code(Errc::closed);
        }
        if (!sink.in_flight.empty() && !sink.script.empty()) {
          DeliveryReport r;
          r.sequence = sink.in_flight.front();
          r.outcome = sink.script.front();
          sink.script.pop_front();
          sink.in_flight.pop_front();
          co_return r;
        }
        co_await sink.event_.wait();
      }
    }
    void close() override {
      closed = true;
      sink.in_flight.clear();
      sink.event_.notify();
    }
    bool closed = false;
  };

  boost::asio::awaitable<boost::system::result<std::unique_ptr<SinkSession>>> open() override {
    ++opens;
    if (refuse_opens > 0) {
      --refuse_opens;
      co_return make_error_code(Errc::closed);
    }
    co_return std::make_unique<Session>(*this);
  }
  size_t max_in_flight() const override { return 1024; }
  std::string describe() const override { return "fake://"; }

  // Answers the oldest written batches with these outcomes, in order.
  void answer(std::initializer_list<Outcome> outcomes) {
    script.insert(script.end(), outcomes);
    event_.notify();
  }
  // Ends the current session with an error.
  void cut() {
    break_session = true;
    event_.notify();
  }

  boost::asio::any_io_executor ex_;
  Event event_;
  std::vector<uint64_t> written;     // every write, re-sends included
  std::vector<std::string> payloads; // what each write carried
  std::deque<uint64_t> in_flight;    // written, not answered
  std::deque<Outcome> script;
  size_t max_seen_in_flight = 0;
  int opens = 0;
  int refuse_opens = 0;
  bool fail_writes = false;
  bool break_session = false;
};

}  // namespace logferry::test
