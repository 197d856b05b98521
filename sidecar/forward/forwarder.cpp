#include "sidecar/forward/forwarder.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "logferry/v1/logferry.pb.h"
#include "sidecar/config/value_parsers.hpp"
#include "sidecar/core/errors.hpp"
#include "sidecar/core/logger.hpp"

namespace logferry {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using boost::system::error_code;

Forwarder::Forwarder(asio::any_io_executor ex, Sink& sink, const OutputOptions& options, PipelineMetrics& metrics)
    : ex_(ex),
      sink_(sink),
      options_(options),
      metrics_(metrics),
      budget_(options.buffer_max_bytes),
      backoff_(options.backoff_initial, options.backoff_max),
      changed_(ex),
      room_(ex),
      done_(ex),
      stop_event_(ex),
      written_event_(ex) {}

void Forwarder::push(v1::Batch& batch, const Labels& resource, std::shared_ptr<SealedBatch> sealed,
                     std::string_view more_entries, uint32_t more_count) {
  sealed->sequence = next_sequence();
  sealed->entries = static_cast<uint32_t>(batch.entries_size()) + more_count;
  batch.set_sequence(sealed->sequence);
  for (const auto& [k, v] : resource) {
    auto* kv = batch.add_resource();
    kv->set_key(k);
    kv->mutable_value()->set_string_value(v);
  }
  sealed->payload.reserve(batch.ByteSizeLong() + more_entries.size());
  batch.AppendToString(&sealed->payload);
  sealed->payload.append(more_entries.data(), more_entries.size());
  push(std::move(sealed));
}

void Forwarder::push(std::shared_ptr<SealedBatch> batch) {
  bytes_ += batch->memory_bytes();
  queue_.push_back(std::move(batch));
  metrics_.buffer_bytes = bytes_;
  changed_.notify();
}

asio::awaitable<void> Forwarder::wait_for_room() {
  while (full() && !stopping_) co_await room_.wait();
}

void Forwarder::stop() {
  stopping_ = true;
  if (session_) session_->close();
  stop_event_.notify();
  written_event_.notify();
  changed_.notify();
  room_.notify();
  done_.notify();
}

asio::awaitable<bool> Forwarder::drain(std::chrono::steady_clock::time_point deadline) {
  while (!queue_.empty() && !stopping_) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    co_await done_.wait_for(deadline - now);
  }
  co_return queue_.empty();
}

void Forwarder::complete_front(const DeliveryReport& report) {
  auto batch = std::move(queue_.front());
  queue_.pop_front();
  if (written_ > 0) --written_;
  if (!written_at_.empty()) written_at_.pop_front();
  bytes_ -= batch->memory_bytes();
  metrics_.buffer_bytes = bytes_;
  uint64_t committed = 0;
  for (auto& [origin, offset] : batch->commits) {
    if (offset > origin->acked_offset) {
      committed += offset - origin->acked_offset;
      origin->acked_offset = offset;
    }
  }
  if (committed > 0 && on_commit_) on_commit_(committed);
  if (report.outcome == Outcome::rejected) {
    ++metrics_.batches_rejected;
    log_limited(LogLevel::error, "batch rejected by the output; it will not be re-sent",
                {{"sequence", batch->sequence}, {"entries", batch->entries}, {"error", report.error}});
  } else {
    ++metrics_.batches_acked;
    metrics_.entries_acked += batch->entries;
  }
  backoff_.reset();
  if (!full()) room_.notify();
  if (queue_.empty()) done_.notify();
  changed_.notify();
}

asio::awaitable<error_code> Forwarder::writer(SinkSession& s) {
  const size_t window = std::min<size_t>(options_.max_in_flight, sink_.max_in_flight());
  while (!stopping_) {
    if (written_ < queue_.size() && written_ < window) {
      const auto batch = queue_[written_];  // keep it alive while writing
      if (batch->sent_once) ++metrics_.batches_retried;
      batch->sent_once = true;
      ++written_;
      written_at_.push_back(std::chrono::steady_clock::now());
      if (written_at_.size() == 1) written_event_.notify();  // the watchdog's clock starts
      if (auto ec = co_await s.write(*batch)) co_return ec;
      ++metrics_.batches_sent;
      metrics_.entries_sent += batch->entries;
      metrics_.bytes_sent += batch->payload.size();
      continue;
    }
    co_await changed_.wait();
  }
  co_return make_error_code(Errc::closed);
}

asio::awaitable<error_code> Forwarder::reader(SinkSession& s) {
  while (!stopping_) {
    auto report = co_await s.read_report();
    if (!report) co_return report.error();
    if (queue_.empty() || written_ == 0 || report->sequence != queue_.front()->sequence) {
      log_limited(LogLevel::error, "acknowledgement out of order; reconnecting", {{"sequence", report->sequence}});
      co_return make_error_code(Errc::protocol_violation);
    }
    if (report->outcome == Outcome::retry) {
      retry_after_ = report->retry_after;
      log_limited(LogLevel::warn, "output asked to retry later",
                  {{"sequence", report->sequence}, {"error", report->error}});
      co_return make_error_code(Errc::retry_requested);
    }
    complete_front(*report);
  }
  co_return make_error_code(Errc::closed);
}

asio::awaitable<error_code> Forwarder::watchdog() {
  // Sleeps until the oldest written batch's ack is due, or until a batch is
  // written when none is waiting: an idle connection costs no wake-ups.
  asio::steady_timer t(ex_);
  while (!stopping_) {
    if (written_at_.empty() || options_.ack_timeout.count() == 0) {  // 0: no ack timeout
      co_await written_event_.wait();
      continue;
    }
    const auto due = written_at_.front() + options_.ack_timeout;
    if (std::chrono::steady_clock::now() >= due) co_return make_error_code(Errc::ack_timeout);
    t.expires_at(due);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return make_error_code(Errc::closed);
}

asio::awaitable<void> Forwarder::run() {
  while (!stopping_) {
    auto opened = co_await sink_.open();
    if (stopping_) break;
    if (!opened) {
      ++metrics_.connect_failures;
      const auto delay = backoff_.next();
      log_limited(LogLevel::warn, "cannot reach the output; retrying",
                  {{"output", sink_.describe()}, {"error", opened.error().message()},
                   {"retry_in", format_duration(delay)}});
      co_await stop_event_.wait_for(delay);
      continue;
    }
    std::unique_ptr<SinkSession> session = std::move(*opened);
    session_ = session.get();
    metrics_.connected = true;
    log_info("connected to the output", {{"output", sink_.describe()}, {"unacknowledged_batches", queue_.size()}});
    written_ = 0;
    written_at_.clear();
    retry_after_ = std::chrono::milliseconds(0);
    auto result = co_await (writer(*session) || reader(*session) || watchdog());
    const error_code ec = std::visit([](auto e) { return e; }, result);
    session->close();
    session_ = nullptr;
    metrics_.connected = false;
    written_ = 0;
    written_at_.clear();
    if (stopping_) break;
    ++metrics_.reconnects;
    ++metrics_.output_errors[sink_.current_output()];
    const auto delay = std::max(backoff_.next(), retry_after_);
    log_limited(LogLevel::warn, "connection to the output lost; re-sending unacknowledged batches",
                {{"output", sink_.describe()}, {"error", ec.message()}, {"unacknowledged_batches", queue_.size()},
                 {"retry_in", format_duration(delay)}});
    co_await stop_event_.wait_for(delay);
  }
}

}  // namespace logferry
