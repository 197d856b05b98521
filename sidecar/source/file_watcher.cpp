#include "sidecar/source/file_watcher.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sidecar/core/logger.hpp"

namespace logferry {

uint64_t head_hash(std::string_view bytes) {
  uint64_t h = 1469598103934665603ull;
  for (const unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

FileWatcher::FileWatcher(OriginPtr origin, UniqueFd fd, dev_t device, ino_t inode, uint64_t offset,
                         WatcherLimits limits)
    : origin_(std::move(origin)),
      fd_(std::move(fd)),
      device_(device),
      inode_(inode),
      limits_(limits),
      splitter_(limits.max_line_bytes, offset),
      last_data_(limits_.now()) {
  refresh_head();
  origin_->read_offset = offset;
}

uint32_t FileWatcher::refresh_head() {
  char buf[kHeadBytes];
  ssize_t n;
  do {
    n = ::pread(fd_.get(), buf, sizeof buf, 0);
  } while (n < 0 && errno == EINTR);
  if (n > 0) head_.assign(buf, static_cast<size_t>(n));
  return static_cast<uint32_t>(head_.size());
}

bool FileWatcher::has_unread_bytes() const {
  struct stat st {};
  return ::fstat(fd_.get(), &st) == 0 && static_cast<uint64_t>(st.st_size) > splitter_.offset();
}

bool FileWatcher::replaced_in_place() {
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) return false;
  if (static_cast<uint64_t>(st.st_size) < splitter_.offset()) return true;
  // Same size or longer: compare the bytes we know of the head.
  if (head_.empty()) return false;
  const auto same_time = [](const timespec& a, const timespec& b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; };
  if (st.st_size == verified_.size && same_time(st.st_mtim, verified_.mtime) && same_time(st.st_ctim, verified_.ctime) &&
      head_.size() == verified_.head_length) {
    return false;  // not written since it was checked
  }
  char buf[kHeadBytes];
  ssize_t n;
  do {
    n = ::pread(fd_.get(), buf, head_.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return false;
  const bool replaced =
      std::string_view(buf, static_cast<size_t>(n)) != std::string_view(head_).substr(0, static_cast<size_t>(n)) ||
      static_cast<size_t>(n) < head_.size();
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);  // the clock file times come from (vDSO: no system call)
  if (!replaced && now.tv_sec - st.st_ctim.tv_sec > kSettledAge.count()) {
    verified_ = {st.st_size, st.st_mtim, st.st_ctim, head_.size()};
  }
  return replaced;
}

void FileWatcher::restart(OriginPtr origin) {
  origin_ = std::move(origin);
  splitter_.reset(0);
  head_.clear();
  tail_.clear();
  verified_ = {};
  origin_->read_offset = 0;
  refresh_head();
}

void FileWatcher::emit(Intake& intake, PipelineMetrics& metrics, const RawLine& line) {
  intake.accept(origin_, read_time_.stamp(line));
  origin_->read_offset = line.end_offset;
  ++metrics.lines_read;
  if (line.truncated) ++metrics.lines_truncated;
}

void FileWatcher::grow_head(uint64_t at, std::string_view bytes) {
  if (head_.size() >= kHeadBytes || at > head_.size()) return;
  const auto skip = static_cast<size_t>(head_.size() - at);
  if (bytes.size() > skip) head_.append(bytes.substr(skip, kHeadBytes - head_.size()));
}

void FileWatcher::keep_tail(std::string_view bytes) {
  if (bytes.size() >= kTailBytes) {
    tail_.assign(bytes.substr(bytes.size() - kTailBytes));
    return;
  }
  const size_t keep = std::min(tail_.size(), kTailBytes - bytes.size());
  tail_.erase(0, tail_.size() - keep);
  tail_.append(bytes);
}

bool FileWatcher::continued_in(int fd, uint64_t size) const {
  const uint64_t offset = splitter_.offset();
  if (size <= offset || head_.empty() || tail_.empty() || tail_.size() > offset) return false;
  auto same = [&](uint64_t at, std::string_view want) {
    char buf[kHeadBytes];
    ssize_t n;
    do {
      n = ::pread(fd, buf, want.size(), static_cast<off_t>(at));
    } while (n < 0 && errno == EINTR);
    return n == static_cast<ssize_t>(want.size()) && std::string_view(buf, want.size()) == want;
  };
  return same(0, head_) && same(offset - tail_.size(), tail_);
}

void FileWatcher::follow(UniqueFd fd, dev_t device, ino_t inode) {
  fd_ = std::move(fd);
  device_ = device;
  inode_ = inode;
  rotated = true;
}

FileWatcher::Status FileWatcher::read_some(std::span<char> buffer, uint64_t budget, Intake& intake,
                                           PipelineMetrics& metrics) {
  auto failed = [&](const char* what) {
    ++metrics.read_errors;
    log_limited(LogLevel::warn, what, {{"path", origin_->path}, {"error", std::strerror(errno)}});
  };
  const LineSplitter::Emit emit_line = [&](const RawLine& line) { emit(intake, metrics, line); };
  read_time_.reset();
  uint64_t total = 0;
  bool full = false;  // the last read filled what it asked for: more may follow
  while (total < budget) {
    const uint64_t offset = splitter_.offset();
    // The first read of a call starts a few bytes early (up to kLeadBytes of
    // the tail we kept, one when none is known): they must be the last ones
    // read before, or the file was truncated (nothing there: it is shorter than
    // our offset) or truncated and written past our offset since (other bytes;
    // copytruncate between two wake-ups; one byte alone is a newline in both
    // files about once a line). So no fstat is needed: a quiet file costs one
    // pread, a write of the app one pread.
    const size_t lead = total > 0 || offset == 0 ? 0
                        : tail_.empty()          ? 1
                                                 : static_cast<size_t>(std::min<uint64_t>(
                                                       {tail_.size(), kLeadBytes, buffer.size() / 2, offset}));
    const size_t want = static_cast<size_t>(std::min(uint64_t{buffer.size() - lead}, budget - total));
    const ssize_t n = ::pread(fd_.get(), buffer.data(), want + lead, static_cast<off_t>(offset - lead));
    if (n < 0) {
      if (errno == EINTR) continue;
      failed("file read failed");
      return total > 0 ? Status::data : Status::error;
    }
    if (static_cast<size_t>(n) < lead) return Status::replaced;  // shorter than our offset
    if (lead != 0 && !tail_.empty() &&
        std::string_view(buffer.data(), lead) != std::string_view(tail_).substr(tail_.size() - lead)) {
      return Status::replaced;
    }
    full = static_cast<size_t>(n) - lead == want;
    if (static_cast<size_t>(n) == lead) break;  // nothing new
    const std::string_view bytes(buffer.data() + lead, static_cast<size_t>(n) - lead);
    grow_head(offset, bytes);
    auto& src = metrics.per_source[origin_->path];
    src.bytes += bytes.size();
    const uint64_t lines_before = metrics.lines_read;
    metrics.bytes_read += bytes.size();
    splitter_.consume(bytes, emit_line);
    // The rest of an over-long line counts as read once its newline was seen.
    origin_->read_offset = std::max(origin_->read_offset, splitter_.line_start());
    src.lines += metrics.lines_read - lines_before;
    keep_tail(bytes);
    total += bytes.size();
    if (!full) break;  // a short read: the end of the file
    if (intake.full()) break;
  }
  if (total == 0) return Status::idle;
  last_data_ = limits_.now();
  return full ? Status::more : Status::data;
}

bool FileWatcher::flush_partial(Intake& intake, PipelineMetrics& metrics, bool force) {
  if (!splitter_.has_partial()) return false;
  if (!force && limits_.now() - last_data_ < limits_.partial_flush) return false;
  read_time_.reset();
  splitter_.flush([&](const RawLine& line) { emit(intake, metrics, line); });
  ++metrics.partial_lines_flushed;
  return true;
}

}  // namespace logferry
