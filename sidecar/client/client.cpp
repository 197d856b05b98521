#include "logferry/client.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "sidecar/core/pipeline_metrics.hpp"
#include "sidecar/client/client_settings.hpp"
#include "sidecar/client/record_batcher.hpp"
#include "sidecar/client/record_queue.hpp"
#include "sidecar/core/clock.hpp"
#include "sidecar/core/logger.hpp"
#include "sidecar/forward/forwarder.hpp"
#include "sidecar/forward/sink_factory.hpp"

namespace logferry {

namespace asio = boost::asio;

namespace {
// A fresh identity per Client: its offsets start at 0, so ids must never repeat.
std::string new_source_id() {
  std::random_device rd;
  const uint64_t hi = (static_cast<uint64_t>(rd()) << 32) | rd();
  const uint64_t lo = (static_cast<uint64_t>(rd()) << 32) | rd();
  return fmt::format("client:{:016x}{:016x}", hi, lo);
}
}  // namespace

// Everything below runs on the client's thread except log(), flush()'s wait
// and stats(), which only touch the queue, atomics and the condition variable.
class Client::Impl {
 public:
  explicit Impl(ClientSettings settings)
      : settings_(std::move(settings)),
        queue_(settings_.queue_max_entries),
        origin_(std::make_shared<Origin>()) {
    origin_->id = new_source_id();
    origin_->path = settings_.source_name;
    configure_logging(settings_.log.level, settings_.log.format, "logferry-client");
    try {
      sink_ = make_sink(io_.get_executor(), settings_.output, metrics_);
    } catch (const std::exception& e) {
      throw std::invalid_argument(e.what());
    }
    forwarder_ = std::make_unique<Forwarder>(io_.get_executor(), *sink_, settings_.output, metrics_);
    batcher_ = std::make_unique<RecordBatcher>(io_.get_executor(), settings_.batch, settings_.resource, *forwarder_,
                                               queue_, origin_, [this](uint64_t acked) { on_progress(acked); });
    asio::co_spawn(io_, forwarder_->run(), asio::detached);
    asio::co_spawn(io_, batcher_->run(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }

  ~Impl() {
    flush(settings_.drain_timeout);
    queue_.close();
    asio::post(io_, [this] {
      batcher_->stop();
      forwarder_->stop();
      io_.stop();
    });
    thread_.join();
  }

  bool log(Severity severity, std::string_view body, std::span<const Attribute> attributes) noexcept {
    if (queue_.size() >= queue_.capacity()) {  // cheap early refusal, without building the record
      queue_.refuse();
      return false;
    }
    PushResult result = PushResult::dropped;
    try {
      Record r;
      r.time_unix_nano = now_unix_nano();
      r.severity = severity;
      r.body.assign(body);
      r.attributes.assign(attributes.begin(), attributes.end());
      result = queue_.push(std::move(r));
      if (result == PushResult::queued_wake) asio::post(io_, [this] { batcher_->wake(); });
    } catch (...) {  // out of memory: the entry is lost, never the caller
      return false;
    }
    return result != PushResult::dropped;
  }

  bool flush(std::chrono::milliseconds timeout) {
    const uint64_t target = queue_.next_offset();
    if (acked_.load() >= target) return true;
    asio::post(io_, [this] { batcher_->request_flush(); });
    std::unique_lock lock(progress_mutex_);
    return progress_.wait_for(lock, timeout, [&] { return acked_.load() >= target; });
  }

  ClientStats stats() const {
    ClientStats s;
    // Read the accepted/dropped pair first: logged is bumped before them, so
    // this order keeps logged >= accepted + dropped in a snapshot taken mid-push.
    s.accepted = queue_.accepted();
    s.dropped = queue_.dropped();
    s.logged = std::max(queue_.logged(), s.accepted + s.dropped);
    s.acked = acked_.load();
    s.queued = queue_.size();
    s.rejected_batches = rejected_.load();
    return s;
  }

  const std::string& source_id() const { return origin_->id; }

 private:
  void on_progress(uint64_t acked) {
    rejected_.store(metrics_.batches_rejected);
    {
      std::lock_guard lock(progress_mutex_);
      acked_.store(acked);
    }
    progress_.notify_all();
  }

  ClientSettings settings_;
  PipelineMetrics metrics_;  // the event loop's only
  RecordQueue queue_;
  OriginPtr origin_;
  asio::io_context io_{1};
  std::unique_ptr<Sink> sink_;
  std::unique_ptr<Forwarder> forwarder_;
  std::unique_ptr<RecordBatcher> batcher_;
  std::atomic<uint64_t> acked_{0};
  std::atomic<uint64_t> rejected_{0};
  std::mutex progress_mutex_;
  std::condition_variable progress_;
  std::thread thread_;
};

Client::Client(const ClientConfig& config) : impl_(std::make_unique<Impl>(make_client_settings(config))) {}

Client::~Client() = default;

bool Client::log(Severity severity, std::string_view body, std::span<const Attribute> attributes) noexcept {
  return impl_->log(severity, body, attributes);
}

bool Client::flush(std::chrono::milliseconds timeout) { return impl_->flush(timeout); }

ClientStats Client::stats() const { return impl_->stats(); }

const std::string& Client::source_id() const { return impl_->source_id(); }

}  // namespace logferry
