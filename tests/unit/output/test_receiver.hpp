#pragma once
// A small HTTP/1.1 server for output tests: listens on 127.0.0.1 port 0 in
// its own threads (one per connection, keep-alive), records every request,
// decodes gzip and snappy bodies for real, and answers from a script (then
// with a default answer). A scripted reply can also cut the connection in
// the middle of a request, without answering.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace logferry::test {

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;                            // as received
  std::string decoded;                         // gunzipped or snappy-uncompressed when so encoded
  unsigned answered = 0;                       // status sent back; 0 = connection cut
};

struct ScriptedReply {
  unsigned status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool cut = false;    // close mid-request (after half of the body), no answer
  bool close = false;  // answer with Connection: close, then close
};

class TestReceiver {
 public:
  // `snappy_bodies`: requests are snappy block-compressed (Loki).
  explicit TestReceiver(bool snappy_bodies = false);
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

 private:
  void accept_loop();
  void serve(int fd);

  bool snappy_;
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
