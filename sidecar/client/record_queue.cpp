#include "sidecar/client/record_queue.hpp"

namespace logferry {

RecordQueue::RecordQueue(size_t capacity) : capacity_(capacity) {}

PushResult RecordQueue::push(Record&& record) {
  logged_.fetch_add(1, std::memory_order_relaxed);
  PushResult result = PushResult::dropped;
  {
    std::lock_guard lock(mutex_);
    if (!closed_ && records_.size() < capacity_) {
      record.offset = next_offset_++;
      records_.push_back(std::move(record));
      size_.store(records_.size(), std::memory_order_relaxed);
      result = wake_armed_ ? PushResult::queued_wake : PushResult::queued;
      wake_armed_ = false;
    }
  }
  if (result == PushResult::dropped) dropped_.fetch_add(1, std::memory_order_relaxed);
  else accepted_.fetch_add(1, std::memory_order_relaxed);
  return result;
}

size_t RecordQueue::take(std::vector<Record>& out, size_t max) {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  while (n < max && !records_.empty()) {
    out.push_back(std::move(records_.front()));
    records_.pop_front();
    ++n;
  }
  size_.store(records_.size(), std::memory_order_relaxed);
  if (records_.empty()) wake_armed_ = true;
  return n;
}

void RecordQueue::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
}

uint64_t RecordQueue::next_offset() const {
  std::lock_guard lock(mutex_);
  return next_offset_;
}

}  // namespace logferry
