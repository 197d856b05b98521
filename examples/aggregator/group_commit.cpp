#include "aggregator/group_commit.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <boost/asio/post.hpp>

#include "sidecar/core/logger.hpp"

namespace logferry::aggregator {

GroupCommit::GroupCommit(boost::asio::any_io_executor executor, FsyncPolicy policy, AggregatorMetrics& metrics)
    : executor_(executor), policy_(policy), metrics_(metrics), event_(executor) {
  if (policy_ == FsyncPolicy::always) thread_ = std::thread([this] { run_thread(); });
}

GroupCommit::~GroupCommit() { stop(); }

uint64_t GroupCommit::written(const SegmentFilePtr& file) {
  if (policy_ == FsyncPolicy::never) return 0;
  const uint64_t ticket = ++next_ticket_;
  {
    std::lock_guard lock(mutex_);
    if (std::find(dirty_.begin(), dirty_.end(), file) == dirty_.end()) dirty_.push_back(file);
    requested_ = ticket;
  }
  wake_.notify_one();
  return ticket;
}

size_t GroupCommit::dirty_count() {
  std::lock_guard lock(mutex_);
  return dirty_.size();
}

void GroupCommit::sync_dirty_now() {
  std::vector<SegmentFilePtr> files;
  {
    std::lock_guard lock(mutex_);
    files.swap(dirty_);
  }
  // The tickets of these files become durable with the thread's next round,
  // which is posted to this (io) thread only after this returns.
  bool ok = true;
  for (const auto& f : files) {
    if (::fdatasync(f->fd()) != 0) {
      ok = false;
      log_error("fdatasync failed", {{"path", f->path()}, {"error", std::strerror(errno)}});
    }
    bump(metrics_.fsyncs);
  }
  if (!ok) on_synced(0, false);
}

void GroupCommit::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void GroupCommit::run_thread() {
  std::vector<SegmentFilePtr> files;
  for (;;) {
    uint64_t target = 0;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || requested_ > synced_; });
      if (requested_ <= synced_) return;  // stopping with nothing pending
      files.swap(dirty_);
      target = requested_;
    }
    bool ok = true;
    for (const auto& f : files) {
      if (::fdatasync(f->fd()) != 0) {
        ok = false;
        log_error("fdatasync failed", {{"path", f->path()}, {"error", std::strerror(errno)}});
      }
      bump(metrics_.fsyncs);
    }
    files.clear();  // may close segments that were rotated away
    {
      std::lock_guard lock(mutex_);
      synced_ = target;
    }
    boost::asio::post(executor_, [alive = std::weak_ptr<GroupCommit*>(alive_), target, ok] {
      if (auto self = alive.lock()) (*self)->on_synced(target, ok);
    });
  }
}

void GroupCommit::on_synced(uint64_t target, bool ok) {
  if (!ok && !failed_) {
    failed_ = true;
    bump(metrics_.store_errors);
    log_error("the store failed to sync: nothing more is acknowledged");
  }
  if (ok && !failed_) durable_ = std::max(durable_, target);
  event_.notify();
}

}  // namespace logferry::aggregator
