#pragma once
// TLS for the aggregator (LOGFERRY_AGGREGATOR_TLS_CERT/_KEY, and _TLS_CLIENT_CA
// for mutual TLS). Each TLS client is handshaken here, then its plaintext is
// relayed over a socketpair to an ordinary Connection, so the protocol code is
// the same for both transports. A failed handshake is counted, logged with the
// peer and OpenSSL's reason, and the client is disconnected.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "aggregator/aggregator_config.hpp"
#include "aggregator/aggregator_metrics.hpp"
#include "sidecar/app/connection_slots.hpp"

namespace logferry::aggregator {

// The server context of LOGFERRY_AGGREGATOR_TLS_CERT/_KEY, requiring client
// certificates signed by _TLS_CLIENT_CA when that is set; throws
// std::runtime_error naming the variable whose file cannot be loaded (start-up).
boost::asio::ssl::context make_server_tls_context(const AggregatorConfig& config);

class TlsTerminator {
 public:
  // Loads the certificate, key and client CAs; throws std::runtime_error (start-up only).
  TlsTerminator(const AggregatorConfig& config, AggregatorMetrics& metrics);

  // A handshaken client: the plaintext side and its certificate's names.
  struct Client {
    boost::asio::ip::tcp::socket plain;
    std::vector<std::string> certificate_names;  // certificate_names() of a verified client certificate
  };
  // Handshakes with `client` within the handshake timeout. On success returns
  // the plaintext side (a local socket wrapped as a tcp::socket) and keeps
  // relaying, with one fixed 16 KiB buffer per direction, until either side
  // closes. On failure returns nullopt (counted, logged, disconnected). While
  // the handshake runs, evicting `pending` disconnects the client.
  boost::asio::awaitable<std::optional<Client>> accept(boost::asio::ip::tcp::socket client,
                                                       ConnectionSlots::Slot& pending);

 private:
  const AggregatorConfig& config_;
  AggregatorMetrics& metrics_;
  boost::asio::ssl::context context_;
};

}  // namespace logferry::aggregator
