#pragma once
// A blocking HTTP/1.1 client for tests (no Beast, so it also tests the server's
// parsing independently): one request per connection, every step with a deadline.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace logferry::test {

using namespace std::chrono_literals;

struct HttpReply {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// Sends `raw` (a complete request, as bytes) to host:port and reads until the
// server closes or `timeout`; returns everything received ("" when nothing).
std::string http_exchange(std::string_view host, uint16_t port, std::string_view raw,
                          std::chrono::milliseconds timeout = 5s);

// GET (or another method without body) with "Connection: close"; nullopt when
// the connection failed or the reply is not HTTP.
std::optional<HttpReply> http_request(std::string_view host, uint16_t port, std::string_view method,
                                      std::string_view target, std::chrono::milliseconds timeout = 5s);

inline std::optional<HttpReply> http_get(std::string_view host, uint16_t port, std::string_view target,
                                         std::chrono::milliseconds timeout = 5s) {
  return http_request(host, port, "GET", target, timeout);
}

// Parses a whole response (status line, headers, body to the end); nullopt if malformed.
std::optional<HttpReply> parse_http_reply(std::string_view raw);

// The value of a sample in a Prometheus text body: `name` is the sample's name
// with its labels as written (logferry_x_total or logferry_x_total{reason="y"}),
// matched as a whole line "name value"; -1 when absent.
long long prometheus_sample(std::string_view body, std::string_view name);

// prometheus_sample() of host:port's /metrics; -1 when unreachable or absent.
long long metrics_sample(std::string_view host, uint16_t port, std::string_view name);

// metrics_sample() of 127.0.0.1:port, where the tests' processes serve /metrics.
inline long long metrics_sample(uint16_t port, std::string_view name) { return metrics_sample("127.0.0.1", port, name); }

// A TCP connection held open by a test (e.g. to occupy a server's connection slot).
class TcpClient {
 public:
  // Connects to host:port (IPv4 literal); connected() tells whether it worked.
  TcpClient(std::string_view host, uint16_t port);
  ~TcpClient();
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends all of `data`; false on error.
  bool send(std::string_view data);
  // Reads until the peer closes or `timeout`; returns what arrived and whether it closed.
  std::pair<std::string, bool> read_until_closed(std::chrono::milliseconds timeout);
  // One GET on this kept-alive connection: sends it, reads one whole reply (its
  // Content-Length body); nullopt on an error, a close or `timeout`.
  std::optional<HttpReply> get(std::string_view target, std::chrono::milliseconds timeout = 5s);

 private:
  enum class Received { done, closed, timed_out };
  // Appends what arrives to `out` until `done(out)`, the peer closes, or `timeout`.
  Received receive_until(std::string& out, const std::function<bool(std::string_view)>& done,
                         std::chrono::milliseconds timeout);

  int fd_ = -1;
};

}  // namespace logferry::test
