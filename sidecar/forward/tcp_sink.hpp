#pragma once
// The native protocol's Sink (tcp:// and tls://): on open() it resolves the
// output's name again (Service IPs change), tries every address of every
// configured output in turn (failover), optionally wraps the socket in TLS
// (server name checked by default), and exchanges Hello/HelloAck, offering
// zstd. Sessions write length-prefixed ClientMessage frames and read Acks.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>

#include "sidecar/core/pipeline_metrics.hpp"
#include "sidecar/core/output_options.hpp"
#include "sidecar/forward/sink.hpp"

namespace logferry {

class TcpSink final : public Sink {
 public:
  // Throws std::runtime_error at start-up when TLS material cannot be loaded.
  TcpSink(boost::asio::any_io_executor ex, const OutputOptions& options, PipelineMetrics& metrics);
  ~TcpSink() override;

  boost::asio::awaitable<boost::system::result<std::unique_ptr<SinkSession>>> open() override;
  size_t max_in_flight() const override { return 1024; }
  std::string describe() const override;
  std::string current_output() const override;

 private:
  boost::asio::awaitable<boost::system::result<std::unique_ptr<SinkSession>>> open_endpoint(const Endpoint& ep);
  std::string current_token() const;

  boost::asio::any_io_executor ex_;
  const OutputOptions& options_;
  PipelineMetrics& metrics_;
  std::optional<boost::asio::ssl::context> tls_;
  size_t preferred_ = 0;  // index of the output that worked last
};

}  // namespace logferry
