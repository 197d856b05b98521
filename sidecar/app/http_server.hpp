#pragma once
// A small, bounded HTTP/1.1 server for health and metrics endpoints, running as
// coroutines on the caller's io_context. Routes map a path to a handler that
// returns the whole response; only GET and HEAD are served. Generic: the sidecar
// and the aggregator each pass their own routes.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace logferry {

struct HttpServerState;  // implementation detail, shared with the server's coroutines

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Produces the response for one GET/HEAD of its path; called on the io_context's thread.
using HttpHandler = std::function<HttpResponse()>;
using HttpRoutes = std::map<std::string, HttpHandler, std::less<>>;

struct HttpServerLimits {
  size_t max_request_bytes = 8192;                        // request line + headers; bodies are refused
  std::chrono::milliseconds request_timeout{5000};        // to read one request and write its response
  size_t max_connections = 32;  // when all are open, the one idle the longest (no request, or a request
                                // not complete yet) is closed to make room (ConnectionSlots)
};

class HttpServer {
 public:
  // Binds `listen` ("host:port", "[v6]:port"; port 0 picks a free one) and starts
  // accepting on `executor`. Throws std::runtime_error when the address is invalid
  // or cannot be bound (start-up only).
  HttpServer(boost::asio::any_io_executor executor, std::string_view listen, HttpRoutes routes,
             HttpServerLimits limits = {});
  // Stops: see stop().
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound address (its port is the real one when 0 was asked for).
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  // Closes the listener and every connection; handlers are never called afterwards.
  void stop();
  // Connections currently open.
  size_t connections() const;

 private:
  std::shared_ptr<HttpServerState> state_;
};

}  // namespace logferry
