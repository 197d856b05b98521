#pragma once
// The file tailer: finds files matching LOGFERRY_FILES (inotify wake-ups plus a
// polling rescan as the fallback), keeps one FileWatcher per file identity
// (device + inode, checked against a hash of the first bytes), reads them
// round-robin with a per-pass byte budget, follows rotation by rename (the old
// file is read to its end) and by copytruncate (re-read from 0 under a new
// identity), and resumes from checkpoints. In node mode each file's origin
// carries the pod labels of its name, symlinks are followed (the target's
// directory is watched too), and a kubelet-rotated file whose checkpoint is not
// done yet is found again after a restart (<target>.<timestamp>, never .gz).
#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string_view>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "sidecar/core/pipeline_metrics.hpp"
#include "sidecar/checkpoint/checkpoint_store.hpp"
#include "sidecar/config/value_parsers.hpp"
#include "sidecar/core/source_options.hpp"
#include "sidecar/core/clock.hpp"
#include "sidecar/core/wakeup.hpp"
#include "sidecar/source/file_watcher.hpp"
#include "sidecar/source/glob_set.hpp"
#include "sidecar/source/log_file_opener.hpp"
#include "sidecar/source/source.hpp"

namespace logferry {

// The origin of a file read under `path`, with identity `id`: the name
// repaired to valid UTF-8 (a file name is whatever bytes the app chose, and it
// travels as a protobuf string, a Prometheus label and JSON) and, in node
// mode, the pod labels its name carries. Every file origin is made here.
OriginPtr file_origin(std::string id, std::string_view path, Mode mode);

class FileSource final : public Source {
 public:
  // `save_checkpoints` is called when new file identities must be persisted
  // before any of their lines can be acknowledged. `now` decides rotate waits,
  // partial flushes and rescans (tests inject their own clock).
  FileSource(boost::asio::any_io_executor ex, const FileSourceOptions& options, const ReadOptions& read,
             PipelineMetrics& metrics,
             std::vector<CheckpointRecord> checkpoints, std::function<void()> save_checkpoints,
             SteadyClock now = steady_now);
  ~FileSource() override;

  boost::asio::awaitable<void> run(Intake& intake) override;
  void drain() override;

  // The records to persist: every open file and every closed one whose lines
  // are not all acknowledged yet.
  std::vector<CheckpointRecord> checkpoints() const;
  // Bytes read but not acknowledged, over all files.
  uint64_t unacked_bytes() const;

 private:
  using Key = std::pair<dev_t, ino_t>;
  struct Closed {
    OriginPtr origin;
    CheckpointRecord record;
  };
  // A file closed to stay under LOGFERRY_MAX_OPEN_FILES while it was idle and
  // fully acknowledged; reopened (same identity and offset) when it grows.
  struct Parked {
    CheckpointRecord record;
    std::string path;
  };

  void start_inotify();
  // Sleeps until an inotify event (read here, no coroutine of its own), a
  // notify() or `deadline`; without inotify until one of the latter two.
  boost::asio::awaitable<void> sleep_until(std::chrono::steady_clock::time_point deadline);
  void take_inotify_events(std::string_view events);
  void take_queued_inotify_events();
  // Closes the inotify descriptor, in the event loop or taken out of it.
  void close_inotify();
  // Decides, once per poll interval, whether reads wait for the open batch to
  // fall due (few lines a second) or happen at every write.
  void update_hold();
  void rescan(Intake& intake, bool first);
  // Opens `open_path` (default: `path`) as the file known under `path`.
  void open_file(const std::string& path, const struct stat& st, Intake& intake, bool first,
                 const std::string& open_path = {});
  // Node mode: reopens rotated files (renamed next to a symlink's target) that
  // pending checkpoints still cover; called on the first scan only.
  void recover_rotated(Intake& intake);
  // Node mode, when `link` leads to a new file: reads the rotated files after
  // the newest one read under it (created and rotated between two rescans).
  void read_missed_rotations(const std::string& link, Intake& intake);
  // The uncompressed rotated files next to `target` (<name>.<suffix>), by name.
  static std::vector<std::pair<std::string, struct stat>> rotated_files(const std::filesystem::path& target);
  // Node mode: sets the origin's pod labels from its path's file name.
  void label_origin(Origin& origin, bool count_unparsed);
  using TimePoint = std::chrono::steady_clock::time_point;
  // Flushes partial lines that waited long enough and closes rotated files
  // that were quiet for LOGFERRY_ROTATE_WAIT; returns when the next of those
  // falls due (max: none), on now_'s clock.
  TimePoint check_watchers(Intake& intake, bool draining);
  // After the file of `key` was truncated in place: goes on in its copy when
  // there is one (read_copy), else restarts it from offset 0 under a new identity.
  void restart_replaced(Key key, Intake& intake);
  // copytruncate: moves the watcher of `key` to the copy logrotate left next
  // to the file and opens the file afresh; false when no copy holds what was read.
  bool read_copy(Key key, Intake& intake);
  void close_watcher(Key key, Intake& intake);
  // Closes the longest-idle, fully acknowledged watcher; false when none qualifies.
  bool park_one(Intake& intake);
  OriginPtr new_origin(const std::string& path, dev_t dev, ino_t ino);
  // Counts and logs (rate-limited) a matching path that is not read; a path
  // skipped scan after scan is counted once.
  void skip_file(const std::string& path, SkipReason reason, int error = 0);
  bool excluded(const std::string& path) const;
  // Drops the per-source metrics of a released file (fully acknowledged and
  // closed), unless another open, parked or closed file has the same path:
  // in node mode every Pod that ever ran would otherwise keep its series.
  void forget_series(const std::string& path);

  boost::asio::any_io_executor ex_;
  const FileSourceOptions& options_;
  const ReadOptions& read_;
  SteadyClock now_;
  PipelineMetrics& metrics_;
  GlobSet include_;
  GlobSet exclude_;
  DirListings listings_;  // what the last rescan read of each directory
  LinkPolicy link_policy_;
  std::string pods_root_;                 // canonical, for LinkPolicy::beneath_root
  std::set<std::string> skipped_paths_;   // skipped by the last scan
  std::set<std::string> skipping_;        // skipped by the current scan
  std::vector<CheckpointRecord> pending_checkpoints_;  // loaded, not matched yet
  std::function<void()> save_checkpoints_;
  bool new_origins_ = false;
  std::map<Key, std::unique_ptr<FileWatcher>> watchers_;
  std::map<std::string, Key> by_path_;  // current path -> identity
  std::map<Key, Parked> parked_;
  // When each rotated watcher was found rotated: LOGFERRY_ROTATE_WAIT counts
  // from there too (a writer may add lines to the renamed file just after).
  std::map<Key, std::chrono::steady_clock::time_point> rotated_at_;
  std::vector<Closed> closed_;          // closed files with unacked lines
  std::vector<char> buffer_;
  Wakeup wake_;
  bool draining_ = false;
  std::chrono::steady_clock::time_point drain_started_;  // when drain() was called
  std::chrono::steady_clock::time_point last_data_;      // last pass that read data
  bool rescan_wanted_ = true;
  int inotify_fd_ = -1;
  std::optional<boost::asio::posix::stream_descriptor> inotify_;
  std::vector<char> inotify_events_ = std::vector<char>(64 * 1024);
  bool hold_reads_ = false;
  std::chrono::steady_clock::time_point rate_since_ = std::chrono::steady_clock::now();
  uint64_t lines_at_rate_start_ = 0;
  std::map<std::string, int> watched_dirs_;
  std::mt19937_64 rng_;
};

}  // namespace logferry
