#pragma once
// One client connection: the hello, then a reader (frames -> store) and a
// writer (acks, in arrival order, each once its batch is durable), plus a
// watchdog that closes the connection when a deadline passes (handshake,
// idle between frames, or a frame that does not complete).
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "aggregator/aggregator_config.hpp"
#include "aggregator/aggregator_metrics.hpp"
#include "aggregator/segment_store.hpp"
#include "aggregator/session_protocol.hpp"
#include "sidecar/app/connection_slots.hpp"
#include "sidecar/core/event.hpp"
#include "sidecar/core/origin.hpp"

namespace logferry::aggregator {

class Connection;
class Relay;

// What all connections of one server share (single io thread).
struct ConnectionContext {
  const AggregatorConfig& config;
  ProtocolSettings protocol;
  AggregatorMetrics& metrics;
  SegmentStore* store;  // nullptr in discard mode
  DecodeScratch scratch;
  std::function<void(Connection*)> on_closed;  // called from the connection's destructor
  TokenFile* token_file = nullptr;  // when set, checked before each hello (a rotated Secret)
  Relay* relay = nullptr;           // relay_only: valid batches are relayed downstream, acked once answered
  uint64_t sessions = 0;            // connections whose hello was accepted (LOGFERRY_AGGREGATOR_MAX_CONNECTIONS)
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `pending` is the connection's pre-authentication slot, released once its
  // hello is accepted; when evicted, the connection closes. `certificate_names`:
  // those of the client's verified TLS certificate (credentials may name them).
  Connection(boost::asio::ip::tcp::socket socket, ConnectionContext& context, ConnectionSlots::Slot pending = {},
             std::vector<std::string> certificate_names = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs the conversation to its end; the connection is closed afterwards.
  boost::asio::awaitable<void> run();
  // Stops reading new frames; acks for batches already read are still sent.
  void stop();

 private:
  using Clock = std::chrono::steady_clock;
  enum class Phase { handshake, waiting, in_frame };
  struct PendingAck {
    uint64_t sequence = 0;
    uint64_t ticket = 0;
    uint32_t stored = 0;
    uint32_t duplicates = 0;
    std::string rejected;  // "" unless the batch is rejected
    OriginPtr relayed;     // relay_only: acked once relayed->acked_offset is set
  };

  boost::asio::awaitable<boost::system::error_code> read_frame(Clock::time_point wait_until, bool handshake,
                                                              uint32_t max_bytes);
  boost::asio::awaitable<void> handshake();
  boost::asio::awaitable<void> reader();
  boost::asio::awaitable<void> writer();
  boost::asio::awaitable<void> watchdog(std::shared_ptr<Connection> self);
  void set_deadline(Clock::time_point t, Phase phase);
  void close_now();
  bool ack_ready(const PendingAck& p) const;

  boost::asio::ip::tcp::socket socket_;
  ConnectionContext& context_;
  SessionProtocol protocol_;
  boost::asio::steady_timer watchdog_timer_;
  Clock::time_point deadline_;
  Phase phase_ = Phase::handshake;
  boost::asio::cancellation_signal stop_reading_;
  bool stopping_ = false;
  bool closed_ = false;
  bool reader_done_ = false;
  bool finished_ = false;
  bool counted_session_ = false;
  std::string payload_;
  std::string out_;
  std::deque<PendingAck> pending_;
  Event queued_;  // the reader queued an ack or finished
  Event room_;    // the writer made room in pending_
  ConnectionSlots::Slot pending_slot_;  // held until the hello is accepted
};

}  // namespace logferry::aggregator
