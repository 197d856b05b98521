#include "support/fault_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <vector>

#include "support/loopback.hpp"
#include "support/random_seed.hpp"

namespace logferry::test {
namespace {

constexpr size_t kMaxPending = 1u << 20;  // per direction: stop reading above this
constexpr size_t kReadChunk = 64 * 1024;

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// One proxied connection: client <-> server, with what is waiting to be written each way.
struct Pair {
  int client = -1;
  int server = -1;
  std::string to_server;    // bytes read from the client
  std::string to_client;    // whole frames read from the server, accepted
  std::string frame;        // the server->client frame being assembled
  uint64_t frames_seen = 0;
  bool client_eof = false;  // the client half-closed: shut the server's write side once flushed
  bool server_eof = false;
  bool dead = false;

  ~Pair() {
    if (client >= 0) ::close(client);
    if (server >= 0) ::close(server);
  }
};

// Writes what it can of `buf` to `fd`; false on a fatal error.
bool flush(int fd, std::string& buf, uint64_t& counter) {
  while (!buf.empty()) {
    const ssize_t n = ::send(fd, buf.data(), buf.size(), MSG_NOSIGNAL);
    if (n > 0) {
      counter += static_cast<uint64_t>(n);
      buf.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
  return true;
}

}  // namespace

FaultProxy::FaultProxy(uint16_t upstream_port, ProxyFraming framing) : upstream_port_(upstream_port), framing_(framing) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("FaultProxy: socket failed");
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = loopback(0);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 128) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error(std::string("FaultProxy: bind/listen failed: ") + std::strerror(errno));
  }
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  seed_ = random_seed("FaultProxy on port " + std::to_string(port_));
  set_nonblocking(listen_fd_);
  if (::pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("FaultProxy: pipe2 failed");
  thread_ = std::thread([this] { loop(); });
}

FaultProxy::~FaultProxy() {
  stop_ = true;
  wake();
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

void FaultProxy::wake() {
  const char c = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_pipe_[1], &c, 1);
}

void FaultProxy::cut_all() {
  cut_ = true;
  wake();
}

void FaultProxy::set_stalled(bool stalled) {
  stalled_ = stalled;
  wake();
}

void FaultProxy::set_ack_drop_probability(double p) { drop_p_ = p; }

FaultProxyStats FaultProxy::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void FaultProxy::loop() {
  std::vector<std::unique_ptr<Pair>> pairs;
  std::mt19937_64 rng(seed_);
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  std::vector<char> buf(kReadChunk);
  FaultProxyStats local;
  bool was_stalled = false;
  while (!stop_) {
    if (cut_.exchange(false)) {
      local.cuts += pairs.size();
      pairs.clear();
    }
    const bool stalled = stalled_;
    if (stalled && !was_stalled) ++local.stalls;
    was_stalled = stalled;
    std::vector<pollfd> fds;
    fds.push_back({wake_pipe_[0], POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    for (auto& p : pairs) {
      short cev = 0, sev = 0;
      if (!stalled) {
        if (!p->client_eof && p->to_server.size() < kMaxPending) cev |= POLLIN;
        if (!p->server_eof && p->to_client.size() < kMaxPending) sev |= POLLIN;
        if (!p->to_client.empty()) cev |= POLLOUT;
        if (!p->to_server.empty()) sev |= POLLOUT;
      }
      fds.push_back({p->client, cev, 0});
      fds.push_back({p->server, sev, 0});
    }
    ::poll(fds.data(), fds.size(), 100);
    if (fds[0].revents & POLLIN) {
      char drain[256];
      while (::read(wake_pipe_[0], drain, sizeof drain) > 0) {
      }
    }
    if (fds[1].revents & POLLIN) {
      for (;;) {
        const int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (c < 0) break;
        const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in up = loopback(upstream_port_);
        if (s < 0 || ::connect(s, reinterpret_cast<sockaddr*>(&up), sizeof up) != 0) {
          if (s >= 0) ::close(s);
          ::close(c);  // upstream down: the client sees the connection closed
          continue;
        }
        set_nonblocking(s);
        const int one = 1;
        ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto p = std::make_unique<Pair>();
        p->client = c;
        p->server = s;
        pairs.push_back(std::move(p));
        ++local.connections;
      }
    }
    const double drop_p = drop_p_;
    const size_t polled = (fds.size() - 2) / 2;  // pairs accepted just now wait for the next round
    for (size_t i = 0; i < polled; ++i) {
      Pair& p = *pairs[i];
      const short crev = fds[2 + i * 2].revents;
      const short srev = fds[3 + i * 2].revents;
      if (stalled) continue;
      if (crev & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t n = ::recv(p.client, buf.data(), buf.size(), 0);
        if (n > 0) p.to_server.append(buf.data(), static_cast<size_t>(n));
        else if (n == 0) p.client_eof = true;
        else if (errno != EAGAIN && errno != EINTR) p.dead = true;
      }
      if (srev & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t n = ::recv(p.server, buf.data(), buf.size(), 0);
        if (n > 0 && framing_ == ProxyFraming::none) {
          p.to_client.append(buf.data(), static_cast<size_t>(n));
        } else if (n > 0) {
          p.frame.append(buf.data(), static_cast<size_t>(n));
          // Move every complete frame to the client, or drop it.
          while (p.frame.size() >= 4) {
            const auto* b = reinterpret_cast<const unsigned char*>(p.frame.data());
            const size_t len = (size_t{b[0]} << 24) | (size_t{b[1]} << 16) | (size_t{b[2]} << 8) | size_t{b[3]};
            if (p.frame.size() < 4 + len) break;
            const bool drop = p.frames_seen > 0 && drop_p > 0 && coin(rng) < drop_p;
            ++p.frames_seen;
            if (drop) ++local.acks_dropped;
            else p.to_client.append(p.frame, 0, 4 + len);
            p.frame.erase(0, 4 + len);
          }
        } else if (n == 0) {
          p.server_eof = true;
        } else if (errno != EAGAIN && errno != EINTR) {
          p.dead = true;
        }
      }
      if (!flush(p.server, p.to_server, local.bytes_up)) p.dead = true;
      if (!flush(p.client, p.to_client, local.bytes_down)) p.dead = true;
      // An end on either side ends the pair once what was read is delivered.
      if ((p.client_eof && p.to_server.empty()) || (p.server_eof && p.to_client.empty())) p.dead = true;
    }
    std::erase_if(pairs, [](const std::unique_ptr<Pair>& p) { return p->dead; });
    std::lock_guard lock(mutex_);
    stats_ = local;
  }
}

}  // namespace logferry::test
