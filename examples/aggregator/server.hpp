#pragma once
// The aggregator's TCP server: accepts connections on one io_context and runs
// each as its own coroutine; stop() stops accepting and lets every connection
// finish the batches it already read before closing. Until its hello is
// accepted a connection holds one of LOGFERRY_AGGREGATOR_MAX_PENDING slots (TLS
// handshake included; at most _MAX_PENDING_PER_PEER per address; when full the
// oldest is closed); authenticated sessions are limited by _MAX_CONNECTIONS.
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include <unordered_set>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "aggregator/aggregator_config.hpp"
#include "aggregator/aggregator_metrics.hpp"
#include "aggregator/connection.hpp"
#include "aggregator/segment_store.hpp"
#include "aggregator/tls_terminator.hpp"
#include "sidecar/app/connection_slots.hpp"

namespace logferry::aggregator {

// Whether a listener on `address` lets anyone who reaches it write entries:
// beyond loopback with neither TLS, a token (file) nor a credentials file.
bool open_to_anyone(const AggregatorConfig& config, const boost::asio::ip::address& address);

class Server {
 public:
  // `store` is nullptr in discard mode. All references must outlive the server.
  // Throws std::runtime_error when the TLS files or the credentials file cannot be loaded (start-up).
  Server(boost::asio::io_context& io, const AggregatorConfig& config, SegmentStore* store, AggregatorMetrics& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens (throws boost::system::system_error at start-up); returns the bound endpoint.
  // Warns when it listens open_to_anyone().
  boost::asio::ip::tcp::endpoint listen();
  // Starts accepting connections.
  void start();
  // relay_only: relays every valid batch through `relay` and acknowledges it once
  // the downstream answered (`relay` must outlive the server); call before start().
  void set_relay(Relay* relay) { context_.relay = relay; }
  // Stops accepting and asks connections to finish; `on_stopped` runs once the last one closed.
  void stop(std::function<void()> on_stopped);
  // Connections currently open.
  size_t connections() const { return live_.size(); }
  // Why the last accept failed (e.g. "Too many open files"), "" once one
  // succeeded again: the aggregator is then not ready (/readyz).
  const std::string& accept_error() const { return accept_error_; }

 private:
  boost::asio::awaitable<void> accept_loop();
  void connection_closed(Connection* c);
  // Starts the Connection of a plain socket (or of a TLS client's relayed plaintext).
  void start_connection(boost::asio::ip::tcp::socket socket, ConnectionSlots::Slot pending,
                        std::vector<std::string> certificate_names = {});
  boost::asio::awaitable<void> start_tls(boost::asio::ip::tcp::socket socket, ConnectionSlots::Slot pending);

  boost::asio::io_context& io_;
  const AggregatorConfig& config_;
  AggregatorMetrics& metrics_;
  ConnectionContext context_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::unique_ptr<TlsTerminator> tls_;  // set when TLS is configured
  std::unique_ptr<TokenFile> token_file_;  // set with LOGFERRY_AGGREGATOR_TOKEN_FILE
  std::unique_ptr<Credentials> credentials_;  // set with LOGFERRY_AGGREGATOR_CREDENTIALS_FILE
  std::unordered_set<Connection*> live_;
  ConnectionSlots pending_;  // connections not yet authenticated
  bool stopping_ = false;
  std::string accept_error_;
  std::function<void()> on_stopped_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace logferry::aggregator
