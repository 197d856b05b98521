#pragma once
// HTTPS to the Kubernetes API server: a new connection per request, the server
// verified against the CA file and the host name (or IP) of the api_url, and
// `Authorization: Bearer <token>` from the token file, re-read when the file
// changed (device, inode, size, mtime) or after a 401 (projected tokens expire
// and are rotated in place). Every step has a deadline. Errors are returned.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/system/result.hpp>

#include "sidecar/core/file_stamp.hpp"
#include "sidecar/kube/kube_metrics.hpp"
#include "sidecar/kube/kube_options.hpp"

namespace logferry {

struct ApiResponse {
  unsigned status = 0;
  std::string body;
};

class ApiClient;

// An open streaming response (a watch): newline-delimited JSON, one line at a time.
class ApiStream {
 public:
  ~ApiStream();
  ApiStream(const ApiStream&) = delete;
  ApiStream& operator=(const ApiStream&) = delete;

  unsigned status() const { return status_; }
  // The next line without its "\n" (empty lines are skipped); std::nullopt when
  // the server ended the response normally. Errc::frame_too_large for a line
  // longer than max_event_bytes, timed_out when no byte came for the read timeout.
  boost::asio::awaitable<boost::system::result<std::optional<std::string>>> next_line();

 private:
  friend class ApiClient;
  struct Connection;
  ApiStream(std::unique_ptr<Connection> conn, std::chrono::milliseconds read_timeout, uint64_t max_line);

  std::unique_ptr<Connection> conn_;
  std::chrono::milliseconds read_timeout_;
  uint64_t max_line_;
  unsigned status_ = 0;
  std::string pending_;  // bytes received after the last complete line
  bool ended_ = false;
};

class ApiClient {
 public:
  // Throws std::runtime_error at start-up when api_url is not https://host[:port]
  // or the CA file cannot be loaded.
  ApiClient(boost::asio::any_io_executor ex, const KubeOptions& options, KubeMetrics& metrics);
  ~ApiClient();

  // One GET; the whole body (at most `max_body` bytes, else an error). A non-2xx
  // status is a response, not an error; network, TLS and timeouts are errors.
  boost::asio::awaitable<boost::system::result<ApiResponse>> get(std::string target, uint64_t max_body);
  // A streaming GET whose reads time out after `read_timeout` each. The caller
  // checks status() first: a non-2xx stream's lines are the error's Status.
  boost::asio::awaitable<boost::system::result<std::unique_ptr<ApiStream>>> stream(std::string target,
                                                                                 std::chrono::milliseconds read_timeout);
  // Closes every open connection (their operations end with an error) and
  // refuses new requests (Errc::closed). For stop(); not reversible.
  void close();

 private:
  friend class ApiStream;
  // Resolves, connects, handshakes and writes the request; then reads the header.
  boost::asio::awaitable<boost::system::result<std::unique_ptr<ApiStream::Connection>>> request(const std::string& target,
                                                                                                uint64_t body_limit);
  // The current token (re-read when the file changed or after a 401).
  const std::string& token();

  boost::asio::any_io_executor ex_;
  const KubeOptions options_;
  KubeMetrics& metrics_;
  ApiEndpoint endpoint_;
  boost::asio::ssl::context tls_;
  std::string token_;
  std::optional<FileStamp> token_stamp_;  // of the file token_ was read from; nullopt = read again
  std::set<ApiStream::Connection*> open_;
  bool closed_ = false;
};

}  // namespace logferry
