#include "sidecar/source/file_source.hpp"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "sidecar/core/json_escape.hpp"
#include "sidecar/core/logger.hpp"
#include "sidecar/source/container_log_name.hpp"

namespace logferry {

namespace asio = boost::asio;

namespace {
constexpr size_t kReadBufferBytes = 256 * 1024;
constexpr auto kCheckInterval = std::chrono::milliseconds(100);
constexpr auto kDrainPoll = std::chrono::milliseconds(20);  // re-read interval while draining
// Below this many lines a second (over the last poll interval), reads wait for
// the open batch to fall due (Intake::batch_due). Above it every write is read
// at once: after a copytruncate only what was read before the truncate, or is
// in logrotate's copy, is shipped, and at high rates the lines written during
// the copy would be many.
constexpr uint64_t kHoldBelowLinesPerSecond = 5000;

// A checkpoint record describes the file open at `fd` when the device and inode
// are its own and the file still starts with the bytes it started with then (an
// inode can be reused by a new file).
bool record_matches(int fd, const struct stat& st, const CheckpointRecord& r) {
  if (r.device != static_cast<uint64_t>(st.st_dev) || r.inode != static_cast<uint64_t>(st.st_ino)) return false;
  std::string head(r.head_length, '\0');
  const ssize_t n = r.head_length == 0 ? 0 : ::pread(fd, head.data(), head.size(), 0);
  return n == static_cast<ssize_t>(r.head_length) && head_hash(head) == r.head_hash &&
         r.offset <= static_cast<uint64_t>(st.st_size);
}
}  // namespace

FileSource::FileSource(asio::any_io_executor ex, const FileSourceOptions& options, const ReadOptions& read,
                       PipelineMetrics& metrics,
                       std::vector<CheckpointRecord> checkpoints, std::function<void()> save_checkpoints,
                       SteadyClock now)
    : ex_(ex),
      options_(options),
      read_(read),
      now_(std::move(now)),
      metrics_(metrics),
      include_(options.globs),
      exclude_(options.exclude),
      link_policy_(options.mode == Mode::node ? LinkPolicy::beneath_root
                   : options.follow_symlinks  ? LinkPolicy::follow
                                             : LinkPolicy::refuse),
      pending_checkpoints_(std::move(checkpoints)),
      save_checkpoints_(std::move(save_checkpoints)),
      buffer_(kReadBufferBytes),
      wake_(ex),
      rng_(std::random_device{}()) {
  // The pods root as the kernel reports paths of open files (it may itself be a link).
  std::error_code ec;
  const auto canonical = std::filesystem::canonical(options.pods_root, ec);
  pods_root_ = ec ? std::filesystem::path(options.pods_root).lexically_normal().string() : canonical.string();
}

FileSource::~FileSource() { close_inotify(); }

void FileSource::close_inotify() {
  if (!inotify_) return;
  if (inotify_->is_open()) {
    inotify_->close();
  } else {
    ::close(inotify_fd_);  // taken out of the event loop while reads were held
  }
  inotify_.reset();
  inotify_fd_ = -1;
}

void FileSource::drain() {
  draining_ = true;
  drain_started_ = now_();
  wake_.notify();
}

bool FileSource::excluded(const std::string& path) const { return !exclude_.empty() && exclude_.matches(path); }

void FileSource::skip_file(const std::string& path, SkipReason reason, int error) {
  skipping_.insert(path);
  if (skipped_paths_.contains(path)) return;
  ++metrics_.skipped_files[std::string(skip_reason_name(reason))];
  log_limited(LogLevel::warn, "file skipped: not read",
              {{"path", path},
               {"reason", skip_reason_name(reason)},
               {"error", error != 0 ? std::strerror(error) : ""}});
}

OriginPtr file_origin(std::string id, std::string_view path, Mode mode) {
  auto o = std::make_shared<Origin>();
  o->id = utf8_repaired(id);
  o->path = utf8_repaired(path);
  if (mode == Mode::node) {
    if (auto name = parse_container_log_name(o->path)) o->resource = container_log_labels(*name);
  }
  return o;
}

OriginPtr FileSource::new_origin(const std::string& path, dev_t dev, ino_t ino) {
  return file_origin(
      fmt::format("file:{}:{}:{:016x}", static_cast<uint64_t>(dev), static_cast<uint64_t>(ino), rng_()), path,
      options_.mode);
}

void FileSource::label_origin(Origin& origin, bool count_unparsed) {
  if (options_.mode != Mode::node) return;
  if (auto name = parse_container_log_name(origin.path)) {
    origin.resource = container_log_labels(*name);
    return;
  }
  origin.resource.clear();
  if (!count_unparsed) return;
  ++metrics_.container_log_names_unparsed;
  log_limited(LogLevel::warn, "file name is not <pod>_<namespace>_<container>-<id>.log; read without pod labels",
              {{"path", origin.path}});
}

void FileSource::start_inotify() {
  if (!options_.inotify) {
    log_info("inotify disabled; polling", {{"poll_interval", format_duration(options_.poll_interval)}});
    return;
  }
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) {
    log_warn("inotify unavailable; relying on polling", {{"error", std::strerror(errno)},
                                                         {"poll_interval", format_duration(options_.poll_interval)}});
    return;
  }
  inotify_.emplace(ex_, inotify_fd_);
}

void FileSource::take_inotify_events(std::string_view events) {
  // The read loop waits on the descriptor itself (Wakeup::read_until): every
  // event means a pass over the files; directory changes also ask for a rescan.
  size_t pos = 0;
  while (pos + sizeof(inotify_event) <= events.size()) {
    const auto* ev = reinterpret_cast<const inotify_event*>(events.data() + pos);
    if (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_Q_OVERFLOW)) {
      rescan_wanted_ = true;
    }
    pos += sizeof(inotify_event) + ev->len;
  }
}

asio::awaitable<void> FileSource::sleep_until(std::chrono::steady_clock::time_point deadline) {
  if (!inotify_) {
    co_await wake_.wait_until(deadline);
    co_return;
  }
  boost::system::error_code ec;
  if (!inotify_->is_open()) inotify_->assign(inotify_fd_, ec);  // back in the event loop after a hold
  size_t n = 0;
  if (!ec) n = co_await wake_.read_until(*inotify_, asio::buffer(inotify_events_), deadline, ec);
  if (ec) {
    log_warn("inotify read failed; relying on polling", {{"error", ec.message()},
                                                         {"poll_interval", format_duration(options_.poll_interval)}});
    close_inotify();
    watched_dirs_.clear();
    rescan_wanted_ = true;
    co_return;
  }
  take_inotify_events(std::string_view(inotify_events_.data(), n));
}

void FileSource::open_file(const std::string& path, const struct stat& st, Intake& intake, bool first,
                           const std::string& open_path) {
  (void)st;
  if (watchers_.size() >= options_.max_open_files && !park_one(intake)) {
    log_limited(LogLevel::warn, "open file limit reached; file waits for a free slot",
                {{"path", path}, {"limit", options_.max_open_files}});
    return;
  }
  // A rotated file found through a link's target is checked as a link would be.
  const bool through_link = !open_path.empty() && link_policy_ == LinkPolicy::beneath_root;
  OpenedLogFile opened = open_log_file(open_path.empty() ? path : open_path, link_policy_, pods_root_);
  if (opened.fd && through_link && !descriptor_beneath(opened.fd.get(), pods_root_)) {
    opened = OpenedLogFile{};
    opened.skip = SkipReason::outside_root;
  }
  if (!opened.fd) {
    if (opened.skip == SkipReason::open_failed) {
      log_limited(LogLevel::warn, "cannot open file", {{"path", path}, {"error", std::strerror(opened.error)}});
    } else {
      skip_file(path, opened.skip, opened.error);
    }
    return;
  }
  UniqueFd fd = std::move(opened.fd);
  const struct stat fst = opened.st;
  const Key key{fst.st_dev, fst.st_ino};
  if (watchers_.contains(key)) {
    by_path_[path] = key;
    return;
  }
  OriginPtr origin;
  uint64_t offset = 0;
  if (auto p = parked_.find(key); p != parked_.end()) {
    // A parked file's record goes back through the checkpoint check below.
    pending_checkpoints_.push_back(p->second.record);
    parked_.erase(p);
  }
  // A checkpoint for this device+inode counts only if the file still starts
  // with the bytes it started with then (an inode can be reused by a new file).
  auto it = std::find_if(pending_checkpoints_.begin(), pending_checkpoints_.end(), [&](const CheckpointRecord& r) {
    return r.device == static_cast<uint64_t>(fst.st_dev) && r.inode == static_cast<uint64_t>(fst.st_ino);
  });
  if (it != pending_checkpoints_.end()) {
    if (record_matches(fd.get(), fst, *it)) {
      origin = file_origin(it->id, path, options_.mode);
      origin->acked_offset = it->offset;
      offset = it->offset;
      log_debug("resuming file", {{"path", path}, {"offset", offset}});
    } else {
      log_info("file replaced since its checkpoint; reading it from the start", {{"path", path}});
    }
    pending_checkpoints_.erase(it);
  }
  if (!origin) {
    origin = new_origin(path, fst.st_dev, fst.st_ino);
    if (first && options_.read_from == ReadFrom::tail) offset = static_cast<uint64_t>(fst.st_size);
    origin->acked_offset = offset;
    new_origins_ = true;
    log_info("watching new file", {{"path", path}, {"offset", offset}});
  }
  if (options_.mode == Mode::node && origin->resource.empty()) label_origin(*origin, true);
  (void)intake;
  watchers_.emplace(key, std::make_unique<FileWatcher>(origin, std::move(fd), fst.st_dev, fst.st_ino, offset,
                                                       WatcherLimits{read_.max_line_bytes, read_.partial_flush, now_}));
  by_path_[path] = key;
  ++metrics_.files_discovered;
  metrics_.files_watched = watchers_.size();
}

void FileSource::rescan(Intake& intake, bool first) {
  rescan_wanted_ = false;
  std::vector<std::string> files, dirs, special;
  include_.scan(files, dirs, &special, &listings_);  // unchanged directories are not read again
  for (const auto& path : special) {
    // Links are followed only where the policy allows (open_log_file checks
    // the descriptor); FIFOs, sockets and devices are never opened.
    if (excluded(path)) continue;
    struct stat lst {};
    if (::lstat(path.c_str(), &lst) != 0) continue;
    if (!S_ISLNK(lst.st_mode)) skip_file(path, SkipReason::not_regular);
    else if (link_policy_ == LinkPolicy::refuse) skip_file(path, SkipReason::symlink);
    else files.push_back(path);
  }
  if (inotify_ && options_.mode == Mode::node) {
    // Writes to a symlink's target are reported in the target's directory only.
    std::set<std::string> wanted(dirs.begin(), dirs.end());
    for (const auto& path : files) {
      std::error_code ec;
      if (!std::filesystem::is_symlink(path, ec)) continue;
      std::filesystem::path dir = std::filesystem::canonical(path, ec).parent_path();
      if (ec) {
        // Dangling: the kubelet renamed the file and has not created the new
        // one yet. Its directory stays watched, or that creation goes unseen.
        auto target = std::filesystem::read_symlink(path, ec);
        if (ec) continue;
        if (target.is_relative()) target = std::filesystem::path(path).parent_path() / target;
        dir = std::filesystem::canonical(target.parent_path(), ec);
        if (ec) continue;
      }
      if (!(dir.string() + "/").starts_with(pods_root_ + "/")) continue;  // never read: not watched either
      if (wanted.insert(dir.string()).second) dirs.push_back(dir.string());
    }
    // Directories of deleted Pods are no longer watched (the kernel dropped
    // their watches already; forget them so the map does not grow).
    std::erase_if(watched_dirs_, [&](const auto& kv) {
      if (wanted.contains(kv.first)) return false;
      ::inotify_rm_watch(inotify_fd_, kv.second);
      return true;
    });
  }
  if (inotify_) {
    for (const auto& d : dirs) {
      if (watched_dirs_.contains(d)) continue;
      const int wd = ::inotify_add_watch(inotify_fd_, d.c_str(),
                                         IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_MODIFY |
                                             IN_CLOSE_WRITE | IN_DELETE_SELF);
      if (wd < 0) {
        log_limited(LogLevel::warn, "inotify watch failed; that directory is polled",
                    {{"dir", d}, {"error", std::strerror(errno)}});
        continue;
      }
      watched_dirs_.emplace(d, wd);
    }
  }
  std::map<std::string, Key> now_by_path;
  for (const auto& path : files) {
    if (excluded(path)) continue;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    const Key key{st.st_dev, st.st_ino};
    now_by_path[path] = key;
    if (watchers_.contains(key)) continue;
    if (auto p = parked_.find(key); p != parked_.end() && static_cast<uint64_t>(st.st_size) == p->second.record.offset) {
      continue;  // parked and unchanged: no descriptor needed
    }
    if (auto old = by_path_.find(path); old != by_path_.end() && old->second != key) {
      // The path now leads to another file: the one we read was rotated away.
      if (auto w = watchers_.find(old->second); w != watchers_.end() && !w->second->rotated) {
        w->second->rotated = true;
        rotated_at_[old->second] = now_();
        ++metrics_.rotations;
        log_info("file rotated", {{"path", path}});
      }
    }
    if (!first && options_.mode == Mode::node) read_missed_rotations(path, intake);
    // A file that appeared after start-up is new: always read from its head.
    open_file(path, st, intake, first);
  }
  if (first && options_.mode == Mode::node) recover_rotated(intake);
  if (first) log_info("initial scan done", {{"files", watchers_.size()}});
  for (auto& [key, w] : watchers_) {
    bool still_there = false;
    for (const auto& [p, k] : now_by_path) still_there = still_there || k == key;
    if (!still_there && !w->rotated) {  // deleted, or renamed out of the globs
      w->rotated = true;
      rotated_at_[key] = now_();
    }
  }
  // Parked files that are gone (deleted or rotated out of the globs) are forgotten.
  std::vector<std::string> gone;
  std::erase_if(parked_, [&](const auto& kv) {
    for (const auto& [p, k] : now_by_path)
      if (k == kv.first) return false;
    gone.push_back(kv.second.path);
    return true;
  });
  for (const auto& path : gone) forget_series(path);
  by_path_ = std::move(now_by_path);
  skipped_paths_.swap(skipping_);
  skipping_.clear();
  if (first) pending_checkpoints_.clear();  // records of files that are gone
  if (new_origins_) {
    // Persist new identities before their first line can be acknowledged, so a
    // restart finds the same identity (the aggregator dedupes by it).
    new_origins_ = false;
    if (save_checkpoints_) save_checkpoints_();
  }
}

std::vector<std::pair<std::string, struct stat>> FileSource::rotated_files(const std::filesystem::path& target) {
  // The kubelet renames <dir>/0.log to <dir>/0.log.<timestamp> (the suffix sorts
  // in time order) and later compresses it; compressed files are not read.
  std::vector<std::pair<std::string, struct stat>> rotated;
  const std::string prefix = target.filename().string() + ".";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(target.parent_path(), ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix) || name.ends_with(".gz")) continue;
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    rotated.emplace_back(entry.path().string(), st);
  }
  std::sort(rotated.begin(), rotated.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return rotated;
}

void FileSource::read_missed_rotations(const std::string& link, Intake& intake) {
  // A file the kubelet created and rotated away between two rescans (polling,
  // or a rescan that came late) was never the link's target when we looked.
  // Every rotated file named after the newest one read under this link is such
  // a file: it is read from its start before the link's new file is opened.
  std::set<Key> known;
  for (const auto& [key, w] : watchers_)
    if (w->origin()->path == link) known.insert(key);
  if (known.empty()) return;
  std::error_code ec;
  const std::filesystem::path target = std::filesystem::canonical(link, ec);
  if (ec) return;
  const auto rotated = rotated_files(target);
  std::optional<size_t> newest;
  for (size_t i = 0; i < rotated.size(); ++i)
    if (known.contains(Key{rotated[i].second.st_dev, rotated[i].second.st_ino})) newest = i;
  if (!newest) return;
  for (size_t i = *newest + 1; i < rotated.size(); ++i) {
    if (watchers_.contains(Key{rotated[i].second.st_dev, rotated[i].second.st_ino})) continue;
    ++metrics_.rotations;
    log_info("reading a file rotated between two scans", {{"path", link}, {"file", rotated[i].first}});
    open_file(link, rotated[i].second, intake, false, rotated[i].first);
  }
}

void FileSource::recover_rotated(Intake& intake) {
  namespace fs = std::filesystem;
  // The kubelet renames <dir>/0.log to <dir>/0.log.<timestamp> (the suffix sorts
  // in time order) and later compresses it. Per symlink with pending records:
  // resume each recorded file found there, then read every rotated file after
  // the newest of them from its start: those were written and rotated while
  // logferry was down (or before it saw them), and no record can name them.
  std::map<std::string, std::vector<CheckpointRecord>> by_link;
  for (const auto& r : pending_checkpoints_) by_link[r.path].push_back(r);
  for (const auto& [link, records] : by_link) {
    std::error_code ec;
    if (!fs::is_symlink(link, ec)) continue;
    const fs::path target = fs::canonical(link, ec);
    if (ec) continue;
    const auto rotated = rotated_files(target);
    std::optional<size_t> newest;
    for (size_t i = 0; i < rotated.size(); ++i) {
      const auto& [file, st] = rotated[i];
      const UniqueFd fd(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
      if (!fd || std::none_of(records.begin(), records.end(),
                              [&](const CheckpointRecord& r) { return record_matches(fd.get(), st, r); })) {
        continue;
      }
      newest = i;
      log_info("resuming a rotated file", {{"path", link}, {"file", file}});
      // Known under the symlink's name (its labels); rescan marks it rotated.
      open_file(link, st, intake, true, file);
    }
    for (size_t i = newest ? *newest + 1 : rotated.size(); i < rotated.size(); ++i) {
      log_info("reading a file rotated while logferry was down", {{"path", link}, {"file", rotated[i].first}});
      open_file(link, rotated[i].second, intake, false, rotated[i].first);
    }
  }
}

void FileSource::close_watcher(Key key, Intake& intake) {
  auto it = watchers_.find(key);
  if (it == watchers_.end()) return;
  FileWatcher& w = *it->second;
  w.flush_partial(intake, metrics_, true);
  intake.retire(w.origin());
  if (w.origin()->acked_offset < w.origin()->read_offset) {
    closed_.push_back({w.origin(), CheckpointRecord{w.origin()->id, w.origin()->path, static_cast<uint64_t>(w.device()),
                                                    static_cast<uint64_t>(w.inode()), w.head_length(),
                                                    w.head_fingerprint(), w.origin()->acked_offset}});
  }
  log_info("file released", {{"path", w.origin()->path}, {"offset", w.offset()}});
  const std::string path = w.origin()->path;
  watchers_.erase(it);
  rotated_at_.erase(key);
  metrics_.files_watched = watchers_.size();
  forget_series(path);
}

void FileSource::forget_series(const std::string& path) {
  for (const auto& [key, w] : watchers_)
    if (w->origin()->path == path) return;
  for (const auto& [key, p] : parked_)
    if (p.path == path) return;
  for (const auto& c : closed_)
    if (c.origin->path == path) return;
  metrics_.per_source.erase(path);
}

bool FileSource::park_one(Intake& intake) {
  auto victim = watchers_.end();
  for (auto it = watchers_.begin(); it != watchers_.end(); ++it) {
    const FileWatcher& w = *it->second;
    if (w.rotated || w.has_partial() || w.origin()->acked_offset != w.offset() || w.has_unread_bytes()) continue;
    if (victim == watchers_.end() || w.last_data() < victim->second->last_data()) victim = it;
  }
  if (victim == watchers_.end()) return false;
  const Key key = victim->first;
  FileWatcher& w = *victim->second;
  parked_[key] = Parked{CheckpointRecord{w.origin()->id, w.origin()->path, static_cast<uint64_t>(key.first),
                                         static_cast<uint64_t>(key.second), w.head_length(), w.head_fingerprint(),
                                         w.offset()},
                        w.origin()->path};
  intake.retire(w.origin());
  watchers_.erase(victim);
  metrics_.files_watched = watchers_.size();
  return true;
}

void FileSource::restart_replaced(Key key, Intake& intake) {
  auto it = watchers_.find(key);
  if (it == watchers_.end()) return;
  FileWatcher& w = *it->second;
  ++metrics_.truncations;
  if (read_copy(key, intake)) return;
  log_info("file truncated (copytruncate); reading it again from the start", {{"path", w.origin()->path}});
  intake.retire(w.origin());
  if (w.origin()->acked_offset < w.origin()->read_offset) {
    closed_.push_back({w.origin(), CheckpointRecord{w.origin()->id, w.origin()->path, key.first, key.second,
                                                    w.head_length(), w.head_fingerprint(), w.origin()->acked_offset}});
  }
  w.restart(new_origin(w.origin()->path, key.first, key.second));
  // Persist the new identity before any of its lines can be acknowledged.
  if (save_checkpoints_) save_checkpoints_();
}

bool FileSource::read_copy(Key key, Intake& intake) {
  // logrotate's copytruncate copies the file, then truncates it: what was
  // written after our last read and before the copy is only in the copy. A
  // regular file next to it, named after it (app.log.1, app.log-20261202), that
  // starts with the same bytes and has the bytes we read last just before our
  // offset is that copy: the watcher goes on in it as in a rotated file, and
  // the truncated path is opened afresh. Only the lines written between the
  // copy and the truncate are lost.
  namespace fs = std::filesystem;
  FileWatcher& w = *watchers_.at(key);
  const fs::path path(w.origin()->path);
  const std::string name = path.filename().string();
  std::error_code ec;
  OpenedLogFile best;
  fs::path best_path;
  for (const auto& entry : fs::directory_iterator(path.parent_path(), ec)) {
    const std::string other = entry.path().filename().string();
    if (other.size() <= name.size() || !other.starts_with(name)) continue;
    // Never through a link, never a FIFO or device: as for the files themselves.
    OpenedLogFile copy = open_log_file(entry.path().string(), LinkPolicy::refuse, {});
    if (!copy.fd || watchers_.contains(Key{copy.st.st_dev, copy.st.st_ino}) ||
        !w.continued_in(copy.fd.get(), static_cast<uint64_t>(copy.st.st_size))) {
      continue;
    }
    const auto newer = [](const timespec& a, const timespec& b) {
      return a.tv_sec != b.tv_sec ? a.tv_sec > b.tv_sec : a.tv_nsec > b.tv_nsec;
    };
    if (best.fd && !newer(copy.st.st_mtim, best.st.st_mtim)) continue;  // several: the newest
    best = std::move(copy);
    best_path = entry.path();
  }
  if (!best.fd) return false;
  ++metrics_.truncation_copies_read;
  log_info("file truncated (copytruncate); the rest of it is read from its copy",
           {{"path", w.origin()->path}, {"copy", best_path.string()}, {"offset", w.offset()}});
  const struct stat best_st = best.st;
  const Key copy{best_st.st_dev, best_st.st_ino};
  auto node = watchers_.extract(key);
  node.key() = copy;
  node.mapped()->follow(std::move(best.fd), copy.first, copy.second);
  watchers_.insert(std::move(node));
  rotated_at_.erase(key);
  rotated_at_[copy] = now_();
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) open_file(path.string(), st, intake, false);
  // Persist the new identity before any of its lines can be acknowledged.
  if (save_checkpoints_) save_checkpoints_();
  return true;
}

FileSource::TimePoint FileSource::check_watchers(Intake& intake, bool draining) {
  const auto now = now_();
  auto next = TimePoint::max();
  std::vector<Key> to_close;
  for (auto& [key, w] : watchers_) {
    w->flush_partial(intake, metrics_, draining);
    if (w->has_partial()) next = std::min(next, w->last_data() + read_.partial_flush);
    if (!w->rotated) continue;
    const auto due = std::max(w->last_data(), rotated_at_[key]) + options_.rotate_wait;
    if (!w->has_unread_bytes() && (draining || now >= due)) {
      to_close.push_back(key);
    } else {
      next = std::min(next, due);
    }
  }
  for (const auto& key : to_close) close_watcher(key, intake);
  std::vector<std::string> released;
  std::erase_if(closed_, [&](const Closed& c) {
    if (c.origin->acked_offset < c.origin->read_offset) return false;
    released.push_back(c.origin->path);
    return true;
  });
  for (const auto& path : released) forget_series(path);
  if (new_origins_) {
    new_origins_ = false;
    if (save_checkpoints_) save_checkpoints_();
  }
  return next;
}

asio::awaitable<void> FileSource::run(Intake& intake) {
  // One pass reads every file up to the size its fstat gave (at most the read
  // budget each). Then the loop sleeps until inotify reports a change, the
  // next rescan (LOGFERRY_POLL_INTERVAL) or a partial flush or rotate wait
  // falls due: a quiet Pod costs one wake-up per poll interval, and a write of
  // the app one wake-up, one fstat and one pread.
  start_inotify();
  rescan(intake, true);
  metrics_.sources_open = true;
  auto last_scan = now_();
  auto last_check = last_scan;
  auto last_head_check = last_scan;
  auto scan_at = std::chrono::steady_clock::now() + options_.poll_interval;  // the wake-up clock
  while (true) {
    bool progress = false;
    bool more = false;
    std::vector<Key> replaced;
    for (auto& [key, w] : watchers_) {
      if (intake.full()) co_await intake.wait_for_room();
      switch (w->read_some(buffer_, read_.read_budget_bytes, intake, metrics_)) {
        case FileWatcher::Status::replaced:
          replaced.push_back(key);
          more = true;  // read again from its start
          break;
        case FileWatcher::Status::more:
          more = true;
          progress = true;
          break;
        case FileWatcher::Status::data:
          progress = true;
          break;
        case FileWatcher::Status::idle:
        case FileWatcher::Status::error:
          break;
      }
    }
    for (const Key& key : replaced) restart_replaced(key, intake);
    intake.seal_due();  // a batch that fell due while reads were held goes out with what they read
    auto now = now_();
    if (progress) last_data_ = now;
    auto due = TimePoint::max();  // the next partial flush or rotate wait, on now_'s clock
    if (!more || now - last_check >= kCheckInterval) {
      due = check_watchers(intake, draining_ && !progress);
      last_check = now;
    }
    if (draining_) {
      // Done once every file was quiet for LOGFERRY_DRAIN_QUIET (counted from the
      // signal at the earliest): lines an app writes while it stops still go out.
      const auto quiet_since = std::max(last_data_, drain_started_);
      if (!progress && now - quiet_since >= options_.drain_quiet) co_return;
    } else if (rescan_wanted_ || now - last_scan >= options_.poll_interval) {
      if (now - last_head_check >= options_.poll_interval) {
        // A file truncated and written again past our offset whose byte before
        // the offset happens to match is found by its head, once per interval.
        replaced.clear();  // those were restarted above
        for (auto& [key, w] : watchers_)
          if (w->replaced_in_place()) replaced.push_back(key);
        for (const Key& key : replaced) restart_replaced(key, intake);
        last_head_check = now;
      }
      update_hold();
      rescan(intake, false);
      last_scan = now;
      scan_at = std::chrono::steady_clock::now() + options_.poll_interval;
      continue;
    }
    if (more) {
      co_await asio::post(ex_, asio::use_awaitable);  // let delivery run between passes
    } else if (draining_) {
      co_await sleep_until(std::chrono::steady_clock::now() + kDrainPoll);
    } else {
      // (Only a test's clock can be behind: then the next rescan is a poll interval away.)
      if (scan_at <= std::chrono::steady_clock::now()) scan_at = std::chrono::steady_clock::now() + options_.poll_interval;
      auto deadline = scan_at;
      if (due != TimePoint::max()) {
        now = now_();
        deadline = std::min(deadline, std::chrono::steady_clock::now() + (due > now ? due - now : TimePoint::duration{}));
      }
      const auto batch_due = intake.batch_due();
      if (hold_reads_ && batch_due != std::chrono::steady_clock::time_point::max()) {
        // Few lines a second and a batch is open: its lines wait for it anyway.
        // Sleep until it is due (inotify events queue up in the kernel), then
        // read everything and seal it: one wake-up per batch, not per write.
        // The descriptor leaves the event loop meanwhile: every event that is
        // not merged with the one before (a write to another file, an app
        // closing the file after each write) would wake epoll_wait even with
        // no read waiting on it.
        if (inotify_ && inotify_->is_open()) inotify_->release();
        co_await wake_.wait_until(std::min(deadline, batch_due));
        take_queued_inotify_events();
      } else {
        co_await sleep_until(deadline);
      }
    }
  }
}

void FileSource::update_hold() {
  const auto now = std::chrono::steady_clock::now();
  const auto elapsed = now - rate_since_;
  if (elapsed < options_.poll_interval) return;  // a rescan asked for by inotify: too short to tell
  const uint64_t lines = metrics_.lines_read - lines_at_rate_start_;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
  hold_reads_ = inotify_.has_value() && lines * 1000 < kHoldBelowLinesPerSecond * static_cast<uint64_t>(ms);
  rate_since_ = now;
  lines_at_rate_start_ = metrics_.lines_read;
}

void FileSource::take_queued_inotify_events() {
  // What queued while reads were held, in one read (no wake-up for them later).
  if (!inotify_) return;
  const ssize_t n = ::read(inotify_fd_, inotify_events_.data(), inotify_events_.size());
  if (n > 0) take_inotify_events(std::string_view(inotify_events_.data(), static_cast<size_t>(n)));
}

std::vector<CheckpointRecord> FileSource::checkpoints() const {
  std::vector<CheckpointRecord> out;
  for (const auto& [key, w] : watchers_) {
    out.push_back(CheckpointRecord{w->origin()->id, w->origin()->path, static_cast<uint64_t>(key.first),
                                   static_cast<uint64_t>(key.second), w->head_length(), w->head_fingerprint(),
                                   w->origin()->acked_offset});
  }
  for (const auto& [key, p] : parked_) out.push_back(p.record);
  for (const auto& c : closed_) {
    CheckpointRecord r = c.record;
    r.offset = c.origin->acked_offset;
    out.push_back(std::move(r));
  }
  return out;
}

uint64_t FileSource::unacked_bytes() const {
  uint64_t n = 0;
  for (const auto& [key, w] : watchers_) n += w->origin()->read_offset - std::min(w->origin()->read_offset, w->origin()->acked_offset);
  for (const auto& c : closed_) n += c.origin->read_offset - std::min(c.origin->read_offset, c.origin->acked_offset);
  return n;
}

}  // namespace logferry
