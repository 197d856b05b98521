#pragma once
// A TCP proxy inside the test process (its own thread, 127.0.0.1, port 0)
// between a sidecar and an aggregator, with faults driven by the test: cut
// every connection, stall forwarding, drop acks. It parses the 4-byte length
// framing of the server->client direction so it drops whole frames (the first
// frame of a connection, the HelloAck, is always forwarded); with
// ProxyFraming::none it passes any protocol's bytes (cuts and stalls only).
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace logferry::test {

struct FaultProxyStats {
  uint64_t connections = 0;   // client connections accepted
  uint64_t cuts = 0;          // connections closed by cut_all()
  uint64_t acks_dropped = 0;  // server->client frames dropped
  uint64_t stalls = 0;        // times forwarding stopped after set_stalled(true)
  uint64_t bytes_up = 0;      // client -> server bytes forwarded
  uint64_t bytes_down = 0;    // server -> client bytes forwarded
};

// How the server->client direction is read: as logferry's length-prefixed
// frames (acks can be dropped one by one), or as plain bytes (HTTP outputs).
enum class ProxyFraming { length_prefixed, none };

class FaultProxy {
 public:
  // Listens on 127.0.0.1:0 and forwards to 127.0.0.1:`upstream_port`. Throws on failure.
  explicit FaultProxy(uint16_t upstream_port, ProxyFraming framing = ProxyFraming::length_prefixed);
  // Stops the thread and closes every socket.
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  uint16_t port() const { return port_; }
  // "tcp://127.0.0.1:<port>" for LOGFERRY_OUTPUT.
  std::string output() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

  // Closes every open connection (both sides) at once.
  void cut_all();
  // While stalled nothing is read or written in either direction (accepting continues).
  void set_stalled(bool stalled);
  // Drops each server->client frame after the first with probability `p` (0 = none).
  void set_ack_drop_probability(double p);
  // The seed of the ack drops' random draws (support/random_seed.hpp: printed when the proxy starts).
  uint64_t seed() const { return seed_; }
  FaultProxyStats stats() const;

 private:
  void loop();
  void wake();

  uint16_t upstream_port_;
  ProxyFraming framing_;
  uint16_t port_ = 0;
  uint64_t seed_ = 0;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::atomic<bool> cut_{false};
  std::atomic<bool> stalled_{false};
  std::atomic<double> drop_p_{0.0};
  mutable std::mutex mutex_;
  FaultProxyStats stats_;
  std::thread thread_;
};

}  // namespace logferry::test
