#include "sidecar/app/connection_slots.hpp"

#include <utility>

namespace logferry {

struct ConnectionSlots::State {
  struct Entry {
    std::string peer;
    std::function<void()> close;
    bool idle = true;
  };
  explicit State(ConnectionSlotLimits l) : limits(l) {}

  void erase(uint64_t key) {
    const auto it = entries.find(key);
    if (it == entries.end()) return;
    if (const auto p = per_peer.find(it->second.peer); p != per_peer.end() && --p->second == 0) per_peer.erase(p);
    entries.erase(it);
  }

  ConnectionSlotLimits limits;
  uint64_t next = 1;               // keys grow with admission and with each return to idle
  std::map<uint64_t, Entry> entries;  // in key order: the first idle entry has been idle longest
  std::unordered_map<std::string, size_t> per_peer;
  uint64_t evicted = 0;       // to stay under max_total
  uint64_t evicted_peer = 0;  // to keep a peer under max_per_peer
};

ConnectionSlots::Slot::Slot(Slot&& other) noexcept
    : state_(std::move(other.state_)), key_(std::exchange(other.key_, 0)) {}

ConnectionSlots::Slot& ConnectionSlots::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::move(other.state_);
    key_ = std::exchange(other.key_, 0);
  }
  return *this;
}

void ConnectionSlots::Slot::set_idle(bool idle) {
  if (!state_) return;
  const auto it = state_->entries.find(key_);
  if (it == state_->entries.end()) return;
  if (!idle) {
    it->second.idle = false;
    return;
  }
  auto node = state_->entries.extract(it);
  node.key() = key_ = state_->next++;
  node.mapped().idle = true;
  state_->entries.insert(std::move(node));
}

void ConnectionSlots::Slot::release() {
  if (!state_) return;
  state_->erase(key_);
  state_.reset();
  key_ = 0;
}

void ConnectionSlots::Slot::set_close(std::function<void()> close) {
  if (!state_) return;
  if (const auto it = state_->entries.find(key_); it != state_->entries.end()) it->second.close = std::move(close);
}

bool ConnectionSlots::Slot::held() const { return state_ && state_->entries.contains(key_); }

ConnectionSlots::ConnectionSlots(ConnectionSlotLimits limits) : state_(std::make_shared<State>(limits)) {}

ConnectionSlots::Admit ConnectionSlots::admit(const std::string& peer, std::function<void()> close, Slot& slot) {
  slot.release();
  State& s = *state_;
  const auto evict_first_idle = [&s](const std::string* of_peer) {
    auto victim = s.entries.begin();
    while (victim != s.entries.end() && !(victim->second.idle && (of_peer == nullptr || victim->second.peer == *of_peer))) {
      ++victim;
    }
    if (victim == s.entries.end()) return false;
    auto evict = std::move(victim->second.close);
    s.erase(victim->first);
    if (evict) evict();
    return true;
  };
  if (s.limits.max_per_peer != 0) {
    const auto p = s.per_peer.find(peer);
    if (p != s.per_peer.end() && p->second >= s.limits.max_per_peer) {
      if (!evict_first_idle(&peer)) return Admit::refused_peer;
      ++s.evicted_peer;
    }
  }
  if (s.entries.size() >= s.limits.max_total) {
    if (!evict_first_idle(nullptr)) return Admit::refused_full;
    ++s.evicted;
  }
  const uint64_t key = s.next++;
  s.entries.emplace(key, State::Entry{peer, std::move(close), true});
  ++s.per_peer[peer];
  slot.state_ = state_;
  slot.key_ = key;
  return Admit::admitted;
}

size_t ConnectionSlots::size() const { return state_->entries.size(); }

uint64_t ConnectionSlots::evicted() const { return state_->evicted; }

uint64_t ConnectionSlots::evicted_peer() const { return state_->evicted_peer; }

const ConnectionSlotLimits& ConnectionSlots::limits() const { return state_->limits; }

}  // namespace logferry
