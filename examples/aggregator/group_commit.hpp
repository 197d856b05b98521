#pragma once
// Group commit: batches are written (page cache) on the io thread, then one
// sync thread fdatasyncs every file written since its last round, so one sync
// covers the batches of many connections. Each write gets a ticket; a ticket is
// durable once a round that started after it finished.
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "aggregator/aggregator_config.hpp"
#include "aggregator/aggregator_metrics.hpp"
#include "sidecar/core/event.hpp"
#include "sidecar/core/unique_fd.hpp"

namespace logferry::aggregator {

// One open segment file (closed when the last reference goes, which may be
// on the sync thread after its final sync).
class SegmentFile {
 public:
  SegmentFile(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }

 private:
  UniqueFd fd_;
  std::string path_;
};

using SegmentFilePtr = std::shared_ptr<SegmentFile>;

class GroupCommit {
 public:
  // Results are delivered on `executor` (the io thread).
  GroupCommit(boost::asio::any_io_executor executor, FsyncPolicy policy, AggregatorMetrics& metrics);
  ~GroupCommit();
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Records that `file` got new bytes; returns the ticket to wait for (0 when
  // the policy is never: durable at once).
  uint64_t written(const SegmentFilePtr& file);
  // The newest ticket handed out: waiting for it covers everything written so far.
  uint64_t last_ticket() const { return policy_ == FsyncPolicy::always ? next_ticket_ : 0; }
  // True once the bytes behind `ticket` are on disk.
  bool durable(uint64_t ticket) const { return ticket <= durable_; }
  // True after a failed sync: nothing can be acknowledged any more.
  bool failed() const { return failed_; }
  // Notified whenever durable() or failed() may have changed.
  Event& event() { return event_; }
  // Files written but not synced yet (each holds its descriptor until synced).
  size_t dirty_count();
  // Syncs the files written since the sync thread's last round on this thread
  // and lets them go: bounds the descriptors unsynced files hold.
  void sync_dirty_now();
  // Syncs what is pending, then stops the thread (idempotent).
  void stop();

 private:
  void run_thread();
  void on_synced(uint64_t target, bool ok);

  boost::asio::any_io_executor executor_;
  FsyncPolicy policy_;
  AggregatorMetrics& metrics_;
  Event event_;
  uint64_t next_ticket_ = 0;  // io thread
  uint64_t durable_ = 0;      // io thread
  bool failed_ = false;       // io thread

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<SegmentFilePtr> dirty_;  // guarded by mutex_
  uint64_t requested_ = 0;             // guarded by mutex_
  uint64_t synced_ = 0;                // guarded by mutex_
  bool stopping_ = false;              // guarded by mutex_
  std::thread thread_;
  // Lets results posted by the thread notice that this object is gone.
  std::shared_ptr<GroupCommit*> alive_ = std::make_shared<GroupCommit*>(this);
};

}  // namespace logferry::aggregator
