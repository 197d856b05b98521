#include "support/test_receiver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <snappy.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <fmt/format.h>

#include "support/loopback.hpp"

namespace logferry::test {

namespace {

// One accepted connection: the socket, and its TLS session when the receiver speaks TLS.
struct Conn {
  int fd = -1;
  SSL* ssl = nullptr;
  ~Conn() {
    if (ssl) SSL_free(ssl);
  }
};

bool read_more(Conn& c, std::string& buf) {
  char tmp[65536];
  const ssize_t n = c.ssl ? SSL_read(c.ssl, tmp, sizeof tmp) : ::recv(c.fd, tmp, sizeof tmp, 0);
  if (n <= 0) return false;
  buf.append(tmp, static_cast<size_t>(n));
  return true;
}

bool send_all(Conn& c, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = c.ssl ? SSL_write(c.ssl, s.data() + off, static_cast<int>(s.size() - off))
                            : ::send(c.fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// The common name of the client's certificate, "" without one.
std::string peer_common_name(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return {};
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  X509_free(cert);
  return cn;
}

SSL_CTX* make_server_context(const ReceiverTls& tls) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, tls.cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, tls.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ctx) SSL_CTX_free(ctx);
    throw std::runtime_error("test receiver: cannot load " + tls.cert + " / " + tls.key);
  }
  if (!tls.client_ca.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, tls.client_ca.c_str(), nullptr) != 1) {
      SSL_CTX_free(ctx);
      throw std::runtime_error("test receiver: cannot load " + tls.client_ca);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return ctx;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

bool gunzip(const std::string& in, std::string& out) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return false;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  out.clear();
  char chunk[65536];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof chunk;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(chunk, sizeof chunk - zs.avail_out);
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;
  }
  inflateEnd(&zs);
  return rc == Z_STREAM_END;
}

TestReceiver::TestReceiver(bool snappy_bodies) : TestReceiver(ReceiverOptions{snappy_bodies, std::nullopt, 0}) {}

TestReceiver::TestReceiver(ReceiverOptions options) : snappy_(options.snappy_bodies) {
  if (options.tls) {
    ::signal(SIGPIPE, SIG_IGN);  // SSL_write has no MSG_NOSIGNAL: a peer that left must not kill the tests
    tls_ = make_server_context(*options.tls);
  }
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (listen_fd_ >= 0) ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr = loopback(options.port);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    if (listen_fd_ >= 0) ::close(listen_fd_);
    if (tls_) SSL_CTX_free(tls_);
    throw std::runtime_error("test receiver: cannot listen");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TestReceiver::~TestReceiver() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  for (auto& t : workers_) t.join();
  if (tls_) SSL_CTX_free(tls_);
}

void TestReceiver::script(std::vector<ScriptedReply> replies) {
  std::lock_guard lock(mutex_);
  script_ = std::move(replies);
}

void TestReceiver::set_default(std::function<ScriptedReply(const ReceivedRequest&)> f) {
  std::lock_guard lock(mutex_);
  default_ = std::move(f);
}

std::vector<ReceivedRequest> TestReceiver::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

size_t TestReceiver::request_count() const {
  std::lock_guard lock(mutex_);
  return requests_.size();
}

size_t TestReceiver::connections() const {
  std::lock_guard lock(mutex_);
  return connections_;
}

size_t TestReceiver::tls_failures() const {
  std::lock_guard lock(mutex_);
  return tls_failures_;
}

void TestReceiver::accept_loop() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    std::lock_guard lock(mutex_);
    if (fd < 0 || stopping_) {
      if (fd >= 0) ::close(fd);
      return;
    }
    ++connections_;
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

void TestReceiver::serve(int fd) {
  Conn conn;
  conn.fd = fd;
  std::string subject;
  if (tls_) {
    conn.ssl = SSL_new(tls_);
    SSL_set_fd(conn.ssl, fd);
    if (SSL_accept(conn.ssl) != 1) {
      ERR_clear_error();
      {
        std::lock_guard lock(mutex_);
        ++tls_failures_;
      }
      goto done;
    }
    subject = peer_common_name(conn.ssl);
  }
  for (std::string buf;;) {
    size_t head_end;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos)
      if (!read_more(conn, buf)) goto done;
    {
      ReceivedRequest req;
      req.client_subject = subject;
      const std::string head = buf.substr(0, head_end);
      size_t line_end = head.find("\r\n");
      const std::string request_line = head.substr(0, line_end);
      const size_t sp1 = request_line.find(' ');
      const size_t sp2 = request_line.find(' ', sp1 + 1);
      req.method = request_line.substr(0, sp1);
      req.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
      size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        size_t e = head.find("\r\n", pos);
        if (e == std::string::npos) e = head.size();
        const std::string line = head.substr(pos, e - pos);
        const size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string value = line.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.erase(0, 1);
          req.headers[lower(line.substr(0, colon))] = value;
        }
        pos = e + 2;
      }
      const size_t length = req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
      buf.erase(0, head_end + 4);

      ScriptedReply reply;
      bool scripted = false;
      {
        std::lock_guard lock(mutex_);
        if (!script_.empty()) {
          reply = script_.front();
          script_.erase(script_.begin());
          scripted = true;
        }
      }
      if (reply.cut) {
        while (buf.size() < length / 2)
          if (!read_more(conn, buf)) break;
        if (reply.die) ::shutdown(listen_fd_, SHUT_RDWR);  // before the cut: the sink's reconnect is refused
        std::lock_guard lock(mutex_);
        requests_.push_back(std::move(req));
        goto done;
      }
      while (buf.size() < length)
        if (!read_more(conn, buf)) goto done;
      req.body = buf.substr(0, length);
      buf.erase(0, length);
      if (auto ce = req.headers.find("content-encoding"); ce != req.headers.end() && ce->second == "gzip") {
        if (!gunzip(req.body, req.decoded)) req.decoded = "<corrupt gzip>";
      } else if (snappy_) {
        if (!snappy::Uncompress(req.body.data(), req.body.size(), &req.decoded)) req.decoded = "<corrupt snappy>";
      } else {
        req.decoded = req.body;
      }
      {
        std::lock_guard lock(mutex_);
        if (!scripted && default_) reply = default_(req);
        req.answered = reply.status;
        requests_.push_back(req);
      }
      std::string out = fmt::format("HTTP/1.1 {} X\r\nContent-Length: {}\r\n", reply.status, reply.body.size());
      for (const auto& [k, v] : reply.headers) out += fmt::format("{}: {}\r\n", k, v);
      if (reply.close) out += "Connection: close\r\n";
      out += "\r\n" + reply.body;
      if (!send_all(conn, out) || reply.close) goto done;
    }
  }
done:
  std::lock_guard lock(mutex_);
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
}

}  // namespace logferry::test
