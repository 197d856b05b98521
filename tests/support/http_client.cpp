#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <string>

namespace logferry::test {

TcpClient::TcpClient(std::string_view host, uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, std::string(host).c_str(), &addr.sin_addr) != 1) return;
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

TcpClient::~TcpClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool TcpClient::send(std::string_view data) {
  while (!data.empty() && fd_ >= 0) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return data.empty();
}

TcpClient::Received TcpClient::receive_until(std::string& out, const std::function<bool(std::string_view)>& done,
                                             std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (fd_ >= 0) {
    if (done(out)) return Received::done;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Received::timed_out;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
      return Received::closed;  // (or reset)
    }
  }
  return Received::closed;
}

std::pair<std::string, bool> TcpClient::read_until_closed(std::chrono::milliseconds timeout) {
  std::string out;
  const Received r = receive_until(out, [](std::string_view) { return false; }, timeout);
  return {out, r == Received::closed};
}

namespace {

// The length of the first whole HTTP reply (headers and Content-Length body) at
// the start of `in`; 0 while incomplete; npos when the headers are not HTTP.
size_t whole_reply_length(std::string_view in) {
  const size_t head_end = in.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return 0;
  const auto head = parse_http_reply(in.substr(0, head_end + 4));
  if (!head) return std::string_view::npos;
  const auto length = head->headers.find("content-length");
  const size_t total = head_end + 4 + (length == head->headers.end() ? 0 : std::stoul(length->second));
  return in.size() >= total ? total : 0;
}

}  // namespace

std::optional<HttpReply> TcpClient::get(std::string_view target, std::chrono::milliseconds timeout) {
  if (!send("GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")) return std::nullopt;
  std::string in;
  const auto complete = [](std::string_view got) { return whole_reply_length(got) != 0; };
  if (receive_until(in, complete, timeout) != Received::done) return std::nullopt;
  const size_t length = whole_reply_length(in);
  if (length == std::string_view::npos) return std::nullopt;
  return parse_http_reply(std::string_view(in).substr(0, length));
}

std::string http_exchange(std::string_view host, uint16_t port, std::string_view raw,
                          std::chrono::milliseconds timeout) {
  TcpClient c(host, port);
  if (!c.connected() || !c.send(raw)) return {};
  return c.read_until_closed(timeout).first;
}

std::optional<HttpReply> parse_http_reply(std::string_view raw) {
  const size_t head_end = raw.find("\r\n\r\n");
  if (!raw.starts_with("HTTP/1.") || head_end == std::string_view::npos) return std::nullopt;
  HttpReply r;
  std::string_view head = raw.substr(0, head_end);
  const size_t line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  if (status_line.size() < 12) return std::nullopt;
  r.status = static_cast<unsigned>(std::stoul(std::string(status_line.substr(9, 3))));
  head = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  while (!head.empty()) {
    const size_t e = head.find("\r\n");
    const std::string_view line = head.substr(0, e);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string name(line.substr(0, colon));
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      r.headers[name] = std::string(value);
    }
    head = e == std::string_view::npos ? std::string_view() : head.substr(e + 2);
  }
  r.body = std::string(raw.substr(head_end + 4));
  return r;
}

std::optional<HttpReply> http_request(std::string_view host, uint16_t port, std::string_view method,
                                      std::string_view target, std::chrono::milliseconds timeout) {
  std::string req = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: " + std::string(host) +
                    "\r\nConnection: close\r\n\r\n";
  return parse_http_reply(http_exchange(host, port, req, timeout));
}

long long prometheus_sample(std::string_view body, std::string_view name) {
  const std::string key = "\n" + std::string(name) + " ";
  const std::string text = "\n" + std::string(body);
  const size_t pos = text.find(key);
  if (pos == std::string::npos) return -1;
  return std::stoll(text.substr(pos + key.size()));
}

long long metrics_sample(std::string_view host, uint16_t port, std::string_view name) {
  const auto reply = http_get(host, port, "/metrics", 2s);
  if (!reply || reply->status != 200) return -1;
  return prometheus_sample(reply->body, name);
}

}  // namespace logferry::test
