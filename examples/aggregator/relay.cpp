#include "aggregator/relay.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "sidecar/forward/sink_factory.hpp"

namespace logferry::aggregator {

namespace asio = boost::asio;

std::vector<EnvError> relay_output_options(const Environment& env, std::string_view relay_output,
                                           OutputOptions& out) {
  Environment picked = env;
  picked["LOGFERRY_OUTPUT"] = std::string(relay_output);
  auto errors = apply_environment<OutputOptions>(output_table(), picked, out, {});
  // The relay holds more than one sidecar's batches in flight.
  if (!env.contains("LOGFERRY_BUFFER_MAX_BYTES")) out.buffer_max_bytes = 16 * 1024 * 1024;
  for (auto& e : check_output_options(out)) {
    bool reported = false;
    for (const auto& seen : errors) reported = reported || seen.variable == e.variable;
    if (!reported) errors.push_back(std::move(e));
  }
  for (auto& e : errors) {
    if (e.variable == "LOGFERRY_OUTPUT") {
      e.variable = "LOGFERRY_AGGREGATOR_RELAY";
      e.message = "LOGFERRY_AGGREGATOR_RELAY" + e.message.substr(std::string_view("LOGFERRY_OUTPUT").size());
    }
  }
  return errors;
}

// Wraps the real sink so that every downstream answer wakes the connections
// waiting for it (the Forwarder commits right after read_report returns,
// before the woken waiters run).
class Relay::NotifyingSink final : public Sink {
 public:
  NotifyingSink(Sink& inner, Event& event) : inner_(inner), event_(event) {}
  asio::awaitable<boost::system::result<std::unique_ptr<SinkSession>>> open() override {
    auto s = co_await inner_.open();
    if (!s) co_return s.error();
    co_return std::make_unique<Session>(std::move(*s), event_);
  }
  size_t max_in_flight() const override { return inner_.max_in_flight(); }
  std::string describe() const override { return inner_.describe(); }
  std::string current_output() const override { return inner_.current_output(); }

 private:
  class Session final : public SinkSession {
   public:
    Session(std::unique_ptr<SinkSession> inner, Event& event) : inner_(std::move(inner)), event_(event) {}
    asio::awaitable<boost::system::error_code> write(const SealedBatch& b) override { return inner_->write(b); }
    asio::awaitable<boost::system::result<DeliveryReport>> read_report() override {
      auto r = co_await inner_->read_report();
      event_.notify();
      co_return r;
    }
    void close() override { inner_->close(); }

   private:
    std::unique_ptr<SinkSession> inner_;
    Event& event_;
  };
  Sink& inner_;
  Event& event_;
};

Relay::Relay(asio::any_io_executor ex, const OutputOptions& options)
    : event_(ex),
      sink_(make_sink(ex, options, metrics_)),
      notifying_(std::make_unique<NotifyingSink>(*sink_, event_)),
      forwarder_(ex, *notifying_, options, metrics_),
      ex_(ex) {}

Relay::~Relay() = default;

void Relay::start() { asio::co_spawn(ex_, forwarder_.run(), asio::detached); }

OriginPtr Relay::submit(std::string_view serialized_batch, uint32_t entries) {
  ++submitted_;
  auto origin = std::make_shared<Origin>();
  auto sealed = std::make_shared<SealedBatch>();
  sealed->sequence = forwarder_.next_sequence();
  sealed->entries = entries;
  sealed->payload.assign(serialized_batch);
  sealed->commits.emplace_back(origin, 1);
  forwarder_.push(std::move(sealed));
  return origin;
}

OriginPtr Relay::submit(v1::Batch& batch) {
  ++submitted_;
  auto origin = std::make_shared<Origin>();
  auto sealed = std::make_shared<SealedBatch>();
  sealed->commits.emplace_back(origin, 1);
  forwarder_.push(batch, Labels{}, std::move(sealed));
  return origin;
}

void Relay::stop() {
  stopped_ = true;
  forwarder_.stop();
  event_.notify();
}

}  // namespace logferry::aggregator
