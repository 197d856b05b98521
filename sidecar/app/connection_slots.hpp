#pragma once
// Admission control for servers that accept anonymous connections (the HTTP
// endpoints, the audit webhook, the aggregator before a client authenticated):
// at most `max_total` connections hold a slot, at most `max_per_peer` of them
// from one address. When every slot is taken, the connection idle the longest
// is closed to make room (when the peer's share is taken, that peer's own
// longest-idle one), so sockets held open without a word cannot lock others
// out; a new connection is refused only when no connection it may displace is
// idle. Single-threaded (one io_context), no I/O.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

namespace logferry {

struct ConnectionSlotLimits {
  size_t max_total = 64;
  size_t max_per_peer = 0;  // 0: no limit per peer
};

class ConnectionSlots {
  struct State;

 public:
  enum class Admit { admitted, refused_peer, refused_full };

  // A connection's slot: released when destroyed (or when evicted).
  class Slot {
   public:
    Slot() = default;
    ~Slot() { release(); }
    Slot(Slot&& other) noexcept;
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

    // Marks the connection idle (evictable; the idle order starts now) or busy.
    void set_idle(bool idle);
    // Gives the slot back now (e.g. once the client authenticated).
    void release();
    // Replaces how the connection is closed when evicted (e.g. once a TLS
    // stream is handed to a plaintext connection).
    void set_close(std::function<void()> close);
    // True while the slot is held (not released, not evicted).
    bool held() const;

   private:
    friend class ConnectionSlots;
    std::shared_ptr<State> state_;
    uint64_t key_ = 0;
  };

  explicit ConnectionSlots(ConnectionSlotLimits limits);

  // Takes a slot for a connection from `peer` (an address) that starts idle;
  // `close` closes that connection (called at most once, when it is evicted).
  // When full, the longest-idle connection is evicted first (counted in
  // evicted(), or in evicted_peer() for the peer's own share).
  Admit admit(const std::string& peer, std::function<void()> close, Slot& slot);

  size_t size() const;
  // Connections closed to make room, since start: to stay under max_total, and
  // to keep a peer under max_per_peer.
  uint64_t evicted() const;
  uint64_t evicted_peer() const;
  const ConnectionSlotLimits& limits() const;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace logferry
