#include "support/fault_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "support/loopback.hpp"
#include "support/wait.hpp"

using namespace logferry::test;

namespace {

// A length-prefixed frame (4 bytes, big endian), as the aggregator's replies are framed.
std::string frame(const std::string& payload) {
  const auto n = static_cast<uint32_t>(payload.size());
  std::string out{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                  static_cast<char>(n)};
  return out + payload;
}

// Reads exactly `n` bytes; nullopt on timeout, error or end of stream.
std::optional<std::string> read_exact(int fd, size_t n, std::chrono::milliseconds timeout) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[256];
    const ssize_t got = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
    if (got <= 0) return std::nullopt;
    out.append(buf, static_cast<size_t>(got));
  }
  return out;
}

// The next frame's payload; nullopt when none arrives in time.
std::optional<std::string> read_frame(int fd, std::chrono::milliseconds timeout = 5s) {
  const auto header = read_exact(fd, 4, timeout);
  if (!header) return std::nullopt;
  const auto* b = reinterpret_cast<const unsigned char*>(header->data());
  const size_t len = (size_t{b[0]} << 24) | (size_t{b[1]} << 16) | (size_t{b[2]} << 8) | size_t{b[3]};
  return read_exact(fd, len, timeout);
}

// An upstream on 127.0.0.1:0 that echoes every byte of each connection back, one
// connection at a time, on its own thread (stopped and joined by the destructor).
class EchoServer {
 public:
  EchoServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = loopback(0);
    REQUIRE(listen_fd_ >= 0);
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(listen_fd_, 8) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~EchoServer() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;
  uint16_t port() const { return port_; }

 private:
  void serve() {
    int conn = -1;
    while (!stop_) {
      pollfd p{conn >= 0 ? conn : listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      if (conn < 0) {
        conn = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        continue;
      }
      char buf[4096];
      const ssize_t n = ::recv(conn, buf, sizeof buf, 0);
      if (n <= 0 || ::send(conn, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) {
        ::close(conn);
        conn = -1;
      }
    }
    if (conn >= 0) ::close(conn);
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A client connection to the proxy.
struct Client {
  explicit Client(uint16_t port) : fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    const sockaddr_in a = loopback(port);
    REQUIRE(fd >= 0);
    REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0);
  }
  ~Client() { ::close(fd); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  void send(const std::string& data) const {
    REQUIRE(::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size()));
  }
  int fd;
};

}  // namespace

TEST_CASE("the fault proxy forwards, drops whole server frames, stalls and cuts", "[support][proxy]") {
  EchoServer upstream;
  FaultProxy proxy(upstream.port());
  CHECK(proxy.output() == "tcp://127.0.0.1:" + std::to_string(proxy.port()));
  Client client(proxy.port());

  // Forwards both ways (the first server frame, the HelloAck's place, is never dropped).
  proxy.set_ack_drop_probability(1.0);
  client.send(frame("one"));
  CHECK(read_frame(client.fd) == "one");
  // The counters are published after each round of the proxy's loop.
  auto counted = [&](uint64_t up, uint64_t down, uint64_t dropped) {
    return wait_until(
        [&] {
          const auto st = proxy.stats();
          return st.connections == 1 && st.bytes_up == up && st.bytes_down == down && st.acks_dropped == dropped;
        },
        5s);
  };
  CHECK(counted(7, 7, 0));

  // Drops: with probability 1 every later frame goes, whole; the framing stays intact.
  client.send(frame("two"));
  REQUIRE(wait_until([&] { return proxy.stats().acks_dropped == 1; }, 5s));
  proxy.set_ack_drop_probability(0.0);
  client.send(frame("three"));
  CHECK(read_frame(client.fd) == "three");
  CHECK(counted(7 + 7 + 9, 7 + 9, 1));

  // Stalls: once the proxy reports the stall, nothing moves until it ends.
  proxy.set_stalled(true);
  REQUIRE(wait_until([&] { return proxy.stats().stalls == 1; }, 5s));
  client.send(frame("four"));
  CHECK(read_frame(client.fd, 300ms) == std::nullopt);
  CHECK(proxy.stats().bytes_up == 7 + 7 + 9);
  proxy.set_stalled(false);
  CHECK(read_frame(client.fd) == "four");
  CHECK(counted(7 + 7 + 9 + 8, 7 + 9 + 8, 1));

  // Cuts: the connection is closed; the client reads the end of the stream.
  proxy.cut_all();
  REQUIRE(wait_until([&] { return proxy.stats().cuts == 1; }, 5s));
  char byte = 0;
  pollfd p{client.fd, POLLIN, 0};
  REQUIRE(::poll(&p, 1, 5000) == 1);
  CHECK(::recv(client.fd, &byte, 1, 0) == 0);
  CHECK(proxy.stats().connections == 1);
}
