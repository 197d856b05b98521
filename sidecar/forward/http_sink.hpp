#pragma once
// The Sink of the HTTP outputs (OTLP/HTTP and Loki): HTTP/1.1 POSTs over a
// keep-alive connection (plain or TLS with peer and host name verification),
// one request at a time. What goes into a body is an HttpEncoder's business;
// what an answer means is classify_http_response's.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>

#include "sidecar/core/pipeline_metrics.hpp"
#include "sidecar/core/output_options.hpp"
#include "sidecar/forward/sink.hpp"

namespace logferry {

// A request body with its content headers.
struct HttpBody {
  std::string data;
  std::string content_type;
  std::string content_encoding;  // "" = none
};

// Turns sealed batches into request bodies for one kind of receiver.
class HttpEncoder {
 public:
  virtual ~HttpEncoder() = default;
  // The request path used when the output URL has none, e.g. "/v1/logs".
  virtual std::string_view default_path() const = 0;
  // Encodes a serialized v1::Batch; false when the payload is not a valid batch.
  virtual bool encode(std::string_view batch_payload, HttpBody& out) = 0;
  // Reads a 2xx answer's body: how many records the receiver dropped anyway
  // (OTLP partial success), with its message in `error`. 0 when none.
  virtual uint64_t partially_rejected(std::string_view body, std::string& error) const {
    (void)body;
    (void)error;
    return 0;
  }
  // Extra headers of every request (e.g. X-Scope-OrgID).
  virtual Labels headers() const { return {}; }
  // Reads a 4xx answer: true when the receiver refused something this encoder
  // can do without and the encoder switched to a form without it for good; the
  // refused batch is then encoded again and re-sent. Called once per answer.
  virtual bool fall_back(unsigned status, std::string_view body) {
    (void)status;
    (void)body;
    return false;
  }
};

class HttpSink final : public Sink {
 public:
  // Throws std::runtime_error at start-up when TLS material cannot be loaded.
  HttpSink(boost::asio::any_io_executor ex, const OutputOptions& options, PipelineMetrics& metrics,
           std::unique_ptr<HttpEncoder> encoder);
  ~HttpSink() override;

  boost::asio::awaitable<boost::system::result<std::unique_ptr<SinkSession>>> open() override;
  // One request per keep-alive connection at a time.
  size_t max_in_flight() const override { return 1; }
  std::string describe() const override;
  std::string current_output() const override;

 private:
  friend class HttpSession;
  struct Connection;
  // Resolves, connects and (for https) handshakes with one output.
  boost::asio::awaitable<boost::system::result<std::unique_ptr<Connection>>> connect(const Endpoint& ep);
  boost::asio::awaitable<boost::system::result<std::unique_ptr<Connection>>> connect_any();

  boost::asio::any_io_executor ex_;
  const OutputOptions& options_;
  PipelineMetrics& metrics_;
  std::unique_ptr<HttpEncoder> encoder_;
  std::optional<boost::asio::ssl::context> tls_;
  size_t preferred_ = 0;  // index of the output that worked last
};

}  // namespace logferry
