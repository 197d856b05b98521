#pragma once
// An OTLP/HTTP logs receiver for relay tests: a TestReceiver on 127.0.0.1 that
// decodes each export request and keeps the body of every log record it
// accepted, in arrival order, with the Pods (k8s.pod.name) they came from.
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "support/test_receiver.hpp"

namespace logferry::test {

class OtlpLogsReceiver {
 public:
  // Listens on a free port; throws std::runtime_error when it cannot.
  OtlpLogsReceiver();
  OtlpLogsReceiver(const OtlpLogsReceiver&) = delete;
  OtlpLogsReceiver& operator=(const OtlpLogsReceiver&) = delete;

  uint16_t port() const { return receiver_.port(); }
  // The underlying receiver: script() answers, requests() as received.
  TestReceiver& receiver() { return receiver_; }
  // While down, every request is answered 503 and nothing is kept. A request to
  // a path other than /v1/logs, or one that does not decode, is answered 400.
  void set_down(bool down) { down_ = down; }

  // The bodies accepted so far, in arrival order (re-sent ones again).
  std::vector<std::string> bodies() const;
  size_t count() const;
  // How many different bodies were accepted.
  size_t distinct() const;
  // The k8s.pod.name resource attributes seen.
  std::set<std::string> pods() const;
  // Every accepted record with its resource's string attributes, in arrival order.
  struct Record {
    std::map<std::string, std::string> resource;
    std::string body;
  };
  std::vector<Record> records() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> bodies_;
  std::vector<Record> records_;
  std::set<std::string> pods_;
  std::atomic<bool> down_{false};
  TestReceiver receiver_;  // last: its threads end before the members they fill
};

}  // namespace logferry::test
