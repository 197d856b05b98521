#pragma once
// The real logferry binaries as child processes, for end-to-end tests.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "support/process.hpp"

namespace logferry::test {

// The port in the first "<marker><port>" line of `process`'s standard output
// (marker e.g. "http endpoint on 127.0.0.1:"), waiting up to `timeout` for it;
// throws std::runtime_error (with the process's stderr) when it does not come.
uint16_t announced_port(ChildProcess& process, const std::string& marker, std::chrono::milliseconds timeout = 10s);

// logferry-aggregator on 127.0.0.1 with port 0, storing under `data_dir`.
class Aggregator {
 public:
  // Starts it and waits for its "listening on" line (throws on failure).
  // A non-zero `port` reuses that port (for restarts).
  Aggregator(std::filesystem::path data_dir, ProcessEnv extra = {}, uint16_t port = 0);
  uint16_t port() const { return port_; }
  std::string output() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  ChildProcess& process() { return *proc_; }
  // The port of its HTTP endpoint (/metrics; started with LOGFERRY_AGGREGATOR_HTTP_ADDR=127.0.0.1:0)
  // and of its audit webhook, from the lines it prints: announced_port().
  uint16_t http_port(std::chrono::milliseconds timeout = 10s);
  uint16_t audit_port(std::chrono::milliseconds timeout = 10s);
  // SIGTERM and wait for exit; returns the exit code (-1 if killed).
  int stop(std::chrono::milliseconds timeout = 20s);
  void restart();

 private:
  void launch();
  std::filesystem::path data_dir_;
  ProcessEnv extra_;
  uint16_t port_;
  std::unique_ptr<ChildProcess> proc_;
};

// The logferry sidecar with `env` added to a minimal environment.
class Sidecar {
 public:
  explicit Sidecar(ProcessEnv env);
  ChildProcess& process() { return *proc_; }
  void start();
  // SIGTERM and wait for exit; returns the exit code (-1 if killed by a signal).
  int stop(std::chrono::milliseconds timeout = 40s);
  void kill9();

 private:
  ProcessEnv env_;
  std::unique_ptr<ChildProcess> proc_;
};

}  // namespace logferry::test
