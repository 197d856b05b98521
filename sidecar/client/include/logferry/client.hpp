#pragma once
// logferry's in-process client: an application links logferry::client and
// sends its log entries straight to the aggregator (or an OTLP/Loki endpoint),
// through the sidecar's own sinks, batching, retries and backoff.
//
//   logferry::Client client(logferry::ClientConfig::from_environment());
//   client.log(logferry::Severity::info, "order placed", {{"order_id", int64_t{42}}});
//
// log() never blocks: entries go into a bounded queue that one background
// thread (the client's own event loop) batches and forwards; when the queue is
// full the entry is dropped and counted. Every entry carries an idempotency key
// (the client's source id and its sequence number), so batches re-sent after a
// lost connection are stored once by the aggregator. This header needs only the
// C++ standard library.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace logferry {

// OpenTelemetry severity numbers (the first of each range).
enum class Severity : int32_t { trace = 1, debug = 5, info = 9, warn = 13, error = 17, fatal = 21 };

// An attribute's value: text, a whole number, a real number or a flag.
using AttributeValue = std::variant<std::string, int64_t, double, bool>;

// One key/value pair attached to an entry.
struct Attribute {
  std::string key;
  AttributeValue value;
};

// What a Client is built from. Settings use the sidecar's environment variable
// names and syntax (LOGFERRY_OUTPUT, LOGFERRY_BATCH_TIMEOUT, LOGFERRY_TLS_CA,
// POD_NAME, LOGFERRY_LABELS, ...); source settings (files, pipe, stdin,
// checkpoints) do not apply to a client and are ignored.
struct ClientConfig {
  // Where entries go, as LOGFERRY_OUTPUT (e.g. "tcp://aggregator:7070");
  // when set it takes precedence over settings["LOGFERRY_OUTPUT"].
  std::string output;
  // Any other sidecar variable by name; unset ones take the sidecar's defaults.
  std::map<std::string, std::string> settings;
  // Entries waiting for the background thread, at most (LOGFERRY_CLIENT_QUEUE_ENTRIES).
  std::size_t queue_max_entries = 65536;
  // How long the destructor waits for queued entries to be acknowledged
  // (LOGFERRY_CLIENT_DRAIN_TIMEOUT).
  std::chrono::milliseconds drain_timeout{5000};
  // Source.path of this client's entries on the wire (LOGFERRY_CLIENT_NAME).
  std::string source_name = "library";

  // Reads the process environment: every sidecar variable that is set, plus
  // LOGFERRY_CLIENT_QUEUE_ENTRIES, LOGFERRY_CLIENT_DRAIN_TIMEOUT and
  // LOGFERRY_CLIENT_NAME. Values are checked by the Client's constructor.
  static ClientConfig from_environment();
};

// Counters of one client; logged == accepted + dropped.
struct ClientStats {
  uint64_t logged = 0;    // log() calls
  uint64_t accepted = 0;  // entries that entered the queue
  uint64_t dropped = 0;   // entries refused because the queue was full (or the client was stopping)
  uint64_t acked = 0;     // accepted entries acknowledged by the output
  uint64_t queued = 0;    // entries in the queue now (not yet batched)
  uint64_t rejected_batches = 0;  // batches the output refused for good (counted, not re-sent)
};

class Client {
 public:
  // Checks the configuration and starts the background thread. Throws
  // std::invalid_argument listing every configuration problem, one per line.
  explicit Client(const ClientConfig& config);
  // Drains: waits at most drain_timeout for queued entries to be acknowledged,
  // then stops the background thread. Entries not acknowledged by then are lost.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Queues one entry (time: now). Never blocks; safe from any number of
  // threads. Returns false when the entry was dropped (queue full).
  bool log(Severity severity, std::string_view body, std::span<const Attribute> attributes = {}) noexcept;
  bool log(Severity severity, std::string_view body, std::initializer_list<Attribute> attributes) noexcept {
    return log(severity, body, std::span<const Attribute>(attributes.begin(), attributes.size()));
  }

  // Sends what is queued now without waiting for the batch timeout, and waits
  // at most `timeout` until every entry accepted before the call was
  // acknowledged by the output. Returns true when they all were.
  bool flush(std::chrono::milliseconds timeout);

  // A snapshot of the counters.
  ClientStats stats() const;

  // This client's source id on the wire (unique per Client instance).
  const std::string& source_id() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logferry
