#pragma once
// A small HTTP/1.1 server for output tests: listens on 127.0.0.1 port 0 in
// its own threads (one per connection, keep-alive), records every request,
// decodes gzip and snappy bodies for real, and answers from a script (then
// with a default answer). A scripted reply can also cut the connection in
// the middle of a request, without answering. Optionally it speaks TLS (and
// requires client certificates), and it can listen on a given port again.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

struct ssl_ctx_st;

namespace logferry::test {

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;                            // as received
  std::string decoded;                         // gunzipped or snappy-uncompressed when so encoded
  unsigned answered = 0;                       // status sent back; 0 = connection cut
  std::string client_subject;                  // TLS: CN of the client's certificate, "" = none
};

struct ScriptedReply {
  unsigned status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool cut = false;    // close mid-request (after half of the body), no answer
  bool die = false;    // with cut: also stop listening first, as a crashed receiver (connects are refused)
  bool close = false;  // answer with Connection: close, then close
};

// TLS material of a receiver (PEM files).
struct ReceiverTls {
  std::string cert;       // server certificate chain
  std::string key;        // its private key
  std::string client_ca;  // when set: clients must present a certificate signed by it
};

struct ReceiverOptions {
  bool snappy_bodies = false;        // requests are snappy block-compressed (Loki)
  std::optional<ReceiverTls> tls;    // speak HTTPS
  uint16_t port = 0;                 // 0 = any free port; else that one (a receiver coming back)
};

class TestReceiver {
 public:
  // `snappy_bodies`: requests are snappy block-compressed (Loki).
  explicit TestReceiver(bool snappy_bodies = false);
  // Throws std::runtime_error when it cannot listen or load the TLS material.
  explicit TestReceiver(ReceiverOptions options);
  ~TestReceiver();
  TestReceiver(const TestReceiver&) = delete;
  TestReceiver& operator=(const TestReceiver&) = delete;

  uint16_t port() const { return port_; }
  // Replies used in order for the next requests; afterwards the default.
  void script(std::vector<ScriptedReply> replies);
  // Computes the answer of every request without a scripted reply (default: 200, empty).
  void set_default(std::function<ScriptedReply(const ReceivedRequest&)> f);
  // Everything received so far (cut requests included, answered == 0).
  std::vector<ReceivedRequest> requests() const;
  size_t request_count() const;
  size_t connections() const;
  // TLS handshakes that failed (the peer refused our certificate, or had none when required).
  size_t tls_failures() const;

 private:
  void accept_loop();
  void serve(int fd);

  bool snappy_;
  ssl_ctx_st* tls_ = nullptr;  // OpenSSL's SSL_CTX; null = plain HTTP
  size_t tls_failures_ = 0;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::vector<ScriptedReply> script_;
  std::function<ScriptedReply(const ReceivedRequest&)> default_;
  std::vector<ReceivedRequest> requests_;
  std::vector<int> open_fds_;
  size_t connections_ = 0;
  bool stopping_ = false;
  std::thread acceptor_;
  std::vector<std::thread> workers_;
};

// Decompresses gzip (false when corrupt).
bool gunzip(const std::string& in, std::string& out);

}  // namespace logferry::test
