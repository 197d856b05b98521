#pragma once
// The audit webhook's own HTTP(S) listener (LOGFERRY_AGGREGATOR_AUDIT_LISTEN),
// Boost.Beast on the aggregator's io_context: TLS with the aggregator's
// settings (client certificates required when LOGFERRY_AGGREGATOR_TLS_CLIENT_CA
// is set), keep-alive, POST on LOGFERRY_AGGREGATOR_AUDIT_PATH only. A body over
// LOGFERRY_AGGREGATOR_AUDIT_MAX_BYTES is answered 413 as soon as its
// Content-Length (or the bytes read so far) show it, then the connection is
// closed; everything else is answered by the AuditReceiver.
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "aggregator/aggregator_config.hpp"
#include "aggregator/aggregator_metrics.hpp"
#include "aggregator/audit_receiver.hpp"

namespace logferry::aggregator {

struct AuditListenerState;  // shared with the connections' coroutines

class AuditListener {
 public:
  // Loads the TLS material when configured; throws std::runtime_error (start-up).
  // `config`, `receiver` and `metrics` must outlive every connection.
  AuditListener(boost::asio::any_io_executor executor, const AggregatorConfig& config, AuditReceiver& receiver,
                AggregatorMetrics& metrics);
  ~AuditListener();
  AuditListener(const AuditListener&) = delete;
  AuditListener& operator=(const AuditListener&) = delete;

  // Binds config.audit_listen and starts accepting; returns the bound address.
  // Throws std::runtime_error when it cannot be bound (start-up).
  boost::asio::ip::tcp::endpoint start();
  // Closes the listener and every connection (a request waiting for its
  // durable write still completes, but its answer is not sent).
  void stop();

 private:
  std::shared_ptr<AuditListenerState> state_;
};

}  // namespace logferry::aggregator
