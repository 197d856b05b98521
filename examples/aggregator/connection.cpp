#include "aggregator/connection.hpp"

#include <algorithm>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/write.hpp>

#include "aggregator/relay.hpp"
#include "sidecar/core/errors.hpp"
#include "sidecar/core/logger.hpp"
#include "sidecar/forward/framing.hpp"

namespace logferry::aggregator {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr size_t kMaxPendingAcks = 256;
constexpr size_t kKeepPayloadCapacity = 1u << 20;

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, ConnectionContext& context, ConnectionSlots::Slot pending,
                       std::vector<std::string> certificate_names)
    : socket_(std::move(socket)),
      context_(context),
      protocol_(context.protocol, std::move(certificate_names)),
      watchdog_timer_(socket_.get_executor()),
      deadline_(Clock::now() + context.config.handshake_timeout),
      queued_(socket_.get_executor()),
      room_(socket_.get_executor()),
      pending_slot_(std::move(pending)) {
  pending_slot_.set_close([this] { close_now(); });
  bump(context_.metrics.connections_accepted);
  bump(context_.metrics.connections_active);
}

Connection::~Connection() {
  pending_slot_.release();
  if (counted_session_) --context_.sessions;
  context_.metrics.connections_active.fetch_sub(1, std::memory_order_relaxed);
  if (context_.on_closed) context_.on_closed(this);
}

void Connection::set_deadline(Clock::time_point t, Phase phase) {
  deadline_ = t;
  phase_ = phase;
  if (t < watchdog_timer_.expiry()) watchdog_timer_.expires_at(t);  // wakes the watchdog to re-arm
}

void Connection::close_now() {
  if (closed_) return;
  closed_ = true;
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  queued_.notify();
  room_.notify();
}

void Connection::stop() {
  stopping_ = true;
  if (phase_ == Phase::handshake) close_now();
  stop_reading_.emit(asio::cancellation_type::total);
  room_.notify();
}

bool Connection::ack_ready(const PendingAck& p) const {
  if (p.relayed && p.relayed->acked_offset == 0) return false;
  return context_.store == nullptr || context_.store->durable(p.ticket);
}

asio::awaitable<void> Connection::watchdog(std::shared_ptr<Connection> self) {
  while (!finished_ && !closed_) {
    watchdog_timer_.expires_at(deadline_);
    co_await watchdog_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (finished_ || closed_) break;
    if (Clock::now() < deadline_) continue;
    if (phase_ == Phase::handshake) {
      bump(context_.metrics.handshake_failures);
      bump(context_.metrics.handshake_timeouts);
      log_limited(LogLevel::warn, "no hello before the handshake deadline: connection closed");
    } else {
      bump(context_.metrics.frames_stalled);
      log_limited(LogLevel::warn, phase_ == Phase::in_frame ? "frame not completed in time: connection closed"
                                                            : "connection idle too long: closed");
    }
    close_now();
  }
  (void)self;
}

asio::awaitable<error_code> Connection::read_frame(Clock::time_point wait_until, bool handshake, uint32_t max_bytes) {
  set_deadline(wait_until, handshake ? Phase::handshake : Phase::waiting);
  if (stopping_ && !handshake) co_return asio::error::operation_aborted;
  auto [ec] = co_await socket_.async_wait(
      asio::ip::tcp::socket::wait_read,
      asio::bind_cancellation_slot(stop_reading_.slot(), asio::as_tuple(asio::use_awaitable)));
  if (ec) co_return ec;
  if (closed_) co_return asio::error::operation_aborted;
  if (!handshake) set_deadline(Clock::now() + context_.config.frame_timeout, Phase::in_frame);
  const error_code read_ec = co_await async_read_frame(socket_, payload_, max_bytes);
  if (!read_ec) bump(context_.metrics.bytes_received, kFrameHeaderBytes + payload_.size());
  if (read_ec == Errc::frame_too_large && handshake) {
    bump(context_.metrics.hello_oversized);
    log_limited(LogLevel::warn, "hello over the maximum size: connection closed", {{"limit", kMaxHelloBytes}});
  } else if (read_ec == Errc::frame_too_large) {
    bump(context_.metrics.frames_oversized);
    log_limited(LogLevel::warn, "frame over the maximum size: connection closed");
  }
  co_return read_ec;
}

asio::awaitable<void> Connection::handshake() {
  const error_code ec =
      co_await read_frame(deadline_, true, std::min(kMaxHelloBytes, context_.protocol.max_frame_bytes));
  if (ec || closed_) {
    if (!closed_ && ec != asio::error::eof && ec != Errc::frame_too_large) bump(context_.metrics.handshake_failures);
    if (ec == Errc::frame_too_large) bump(context_.metrics.handshake_failures);
    close_now();
    co_return;
  }
  out_.clear();
  if (context_.token_file) context_.protocol.token = context_.token_file->current();
  error_code refused = protocol_.on_hello(payload_, out_);
  if (!refused && context_.sessions >= context_.config.max_connections) {
    out_.clear();
    append_hello_refusal(out_, "too many connections: try again later", context_.protocol.max_frame_bytes);
    refused = make_error_code(Errc::handshake_refused);
    bump(context_.metrics.connections_refused);
  } else if (!refused) {
    ++context_.sessions;
    counted_session_ = true;
    pending_slot_.release();
  }
  if (payload_.capacity() > kMaxHelloBytes) std::string().swap(payload_);
  auto [wec, n] = co_await asio::async_write(socket_, asio::buffer(out_), asio::as_tuple(asio::use_awaitable));
  if (refused || wec) {
    if (refused) {
      bump(context_.metrics.handshake_failures);
      log_limited(LogLevel::warn, "hello refused", {{"reason", refused.message()}});
    }
    close_now();
  }
}

asio::awaitable<void> Connection::reader() {
  DecodedBatch decoded;
  while (!stopping_ && !closed_) {
    while (pending_.size() >= kMaxPendingAcks && !closed_) {
      set_deadline(Clock::now() + context_.config.idle_timeout, Phase::waiting);
      co_await room_.wait();
    }
    // A full relay buffer or a store at its cap (retention, slow) slows the
    // sidecars down (waited for before decoding: the decoded batch lives in the
    // shared scratch).
    if (context_.relay != nullptr) {
      set_deadline(Clock::now() + context_.config.idle_timeout, Phase::waiting);
      co_await context_.relay->wait_for_room();
    }
    while (context_.store != nullptr && context_.store->full() && !closed_ && !stopping_) {
      set_deadline(Clock::now() + context_.config.idle_timeout, Phase::waiting);
      co_await context_.store->room_event().wait_for(std::chrono::milliseconds(200));  // stop() does not notify it
    }
    if (closed_) break;
    const error_code ec =
        co_await read_frame(Clock::now() + context_.config.idle_timeout, false, context_.protocol.max_frame_bytes);
    if (ec) {
      if (ec == Errc::frame_too_large) close_now();  // a clean end (eof, stop) lets the writer drain
      break;
    }
    const error_code pec = protocol_.on_frame(payload_, context_.scratch, decoded);
    if (pec) {
      bump(context_.metrics.frames_malformed);
      log_limited(LogLevel::warn, "bad frame: connection closed", {{"reason", pec.message()}});
      close_now();
      break;
    }
    PendingAck ack;
    ack.sequence = decoded.sequence;
    if (!decoded.rejected.empty()) {
      ack.rejected = decoded.rejected;
      bump(context_.metrics.batches_rejected);
      bump(context_.metrics.batch_rejections.at(static_cast<size_t>(decoded.reason)));
      log_limited(LogLevel::warn, "batch rejected", {{"sequence", decoded.sequence}, {"reason", decoded.rejected}});
    } else if (decoded.batch == nullptr) {
      ack.stored = decoded.entry_count;  // discard mode
      bump(context_.metrics.entries_stored, decoded.entry_count);
    } else if (context_.store != nullptr) {
      const AppendResult r = context_.store->append(*decoded.batch);
      if (r.ec) {
        close_now();  // not stored: the client resends it elsewhere or later
        break;
      }
      ack.stored = r.stored;
      ack.duplicates = r.duplicates;
      ack.ticket = r.ticket;
    }
    if (context_.relay != nullptr && decoded.batch != nullptr && ack.rejected.empty()) {
      OriginPtr relayed = context_.relay->submit(decoded.bytes, decoded.entry_count);
      if (context_.config.relay_mode == RelayMode::relay_only) {
        ack.relayed = std::move(relayed);
        ack.stored = decoded.entry_count;
      }
    }
    bump(context_.metrics.batches);
    pending_.push_back(std::move(ack));
    queued_.notify();
    if (payload_.capacity() > kKeepPayloadCapacity) std::string().swap(payload_);
    context_.scratch.shrink();
  }
  reader_done_ = true;
  queued_.notify();
}

asio::awaitable<void> Connection::writer() {
  for (;;) {
    if (closed_) break;
    if (pending_.empty()) {
      if (reader_done_) break;
      co_await queued_.wait();
      continue;
    }
    if (const auto& relayed = pending_.front().relayed; relayed && relayed->acked_offset == 0) {
      if (context_.relay->stopped()) {
        close_now();  // not relayed: the sidecar re-sends it later
        break;
      }
      co_await context_.relay->event().wait();
      continue;
    }
    if (!ack_ready(pending_.front())) {
      if (context_.store->failed()) {
        close_now();
        break;
      }
      co_await context_.store->durable_event().wait();
      continue;
    }
    out_.clear();
    while (!pending_.empty() && ack_ready(pending_.front())) {
      const PendingAck& p = pending_.front();
      append_ack_frame(out_, p.sequence, p.stored, p.duplicates, p.rejected);
      pending_.pop_front();
    }
    room_.notify();
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(out_), asio::as_tuple(asio::use_awaitable));
    if (ec) {
      close_now();
      break;
    }
  }
}

asio::awaitable<void> Connection::run() {
  using namespace asio::experimental::awaitable_operators;
  auto self = shared_from_this();
  asio::co_spawn(socket_.get_executor(), watchdog(self), asio::detached);
  co_await handshake();
  if (!closed_) co_await (reader() && writer());
  finished_ = true;
  watchdog_timer_.cancel();
  close_now();
}

}  // namespace logferry::aggregator
