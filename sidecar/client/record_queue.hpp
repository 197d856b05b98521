#pragma once
// The hand-over between the application's threads and the client's event
// loop: a bounded, mutex-guarded queue of records. push() never waits for the
// consumer; when the queue holds its capacity the record is dropped and
// counted. Each accepted record gets the next sequence number, which becomes
// its offset (idempotency key) on the wire, so queue order is offset order.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "logferry/client.hpp"

namespace logferry {

// One entry as the application logged it.
struct Record {
  uint64_t offset = 0;          // assigned by push()
  uint64_t time_unix_nano = 0;  // when log() was called
  Severity severity = Severity::info;
  std::string body;
  std::vector<Attribute> attributes;
};

enum class PushResult {
  queued,         // accepted; the consumer was already told there is work
  queued_wake,    // accepted into an empty queue: the caller must wake the consumer
  dropped,        // the queue was full or closed
};

class RecordQueue {
 public:
  explicit RecordQueue(size_t capacity);

  // Thread-safe. Assigns the record's offset when it is accepted.
  PushResult push(Record&& record);
  // Consumer side: moves up to `max` records (oldest first) into `out`.
  // When it leaves the queue empty, the next push() asks for a wake-up again.
  size_t take(std::vector<Record>& out, size_t max);
  // Counts a record the caller refused itself (it saw the queue full).
  void refuse() {
    logged_.fetch_add(1, std::memory_order_relaxed);
    dropped_.fetch_add(1, std::memory_order_relaxed);
  }
  // Refuses (and counts as dropped) every later push().
  void close();

  // The offset the next accepted record will get (= records accepted so far).
  uint64_t next_offset() const;
  // Counters; logged() == accepted() + dropped() once concurrent pushes returned.
  uint64_t logged() const { return logged_.load(std::memory_order_relaxed); }
  uint64_t accepted() const { return accepted_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t size() const { return size_.load(std::memory_order_relaxed); }
  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::deque<Record> records_;  // guarded by mutex_
  uint64_t next_offset_ = 0;    // guarded by mutex_
  bool wake_armed_ = true;      // guarded by mutex_: the consumer waits for a wake-up
  bool closed_ = false;         // guarded by mutex_
  std::atomic<uint64_t> size_{0};
  std::atomic<uint64_t> logged_{0};
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace logferry
