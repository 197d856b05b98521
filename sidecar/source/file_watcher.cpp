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
  char buf[kHeadBytes];
  ssize_t n;
  do {
    n = ::pread(fd_.get(), buf, head_.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return false;
  return std::string_view(buf, static_cast<size_t>(n)) != std::string_view(head_).substr(0, static_cast<size_t>(n)) ||
         static_cast<size_t>(n) < head_.size();
}

void FileWatcher::restart(OriginPtr origin) {
  origin_ = std::move(origin);
  splitter_.reset(0);
  head_.clear();
  origin_->read_offset = 0;
  refresh_head();
}

void FileWatcher::emit(Intake& intake, PipelineMetrics& metrics, const RawLine& line) {
  intake.accept(origin_, line);
  origin_->read_offset = line.end_offset;
  ++metrics.lines_read;
  if (line.truncated) ++metrics.lines_truncated;
}

FileWatcher::Status FileWatcher::read_some(std::span<char> buffer, uint64_t budget, Intake& intake,
                                           PipelineMetrics& metrics) {
  const LineSplitter::Emit emit_line = [&](const RawLine& line) { emit(intake, metrics, line); };
  uint64_t total = 0;
  while (total < budget) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), budget - total));
    const ssize_t n = ::pread(fd_.get(), buffer.data(), want, static_cast<off_t>(splitter_.offset()));
    if (n < 0) {
      if (errno == EINTR) continue;
      ++metrics.read_errors;
      log_limited(LogLevel::warn, "file read failed", {{"path", origin_->path}, {"error", std::strerror(errno)}});
      return total > 0 ? Status::data : Status::error;
    }
    if (n == 0) break;
    if (head_.size() < kHeadBytes && splitter_.offset() < kHeadBytes) refresh_head();
    auto& src = metrics.per_source[origin_->path];
    src.bytes += static_cast<uint64_t>(n);
    const uint64_t lines_before = metrics.lines_read;
    metrics.bytes_read += static_cast<uint64_t>(n);
    splitter_.consume(std::string_view(buffer.data(), static_cast<size_t>(n)), emit_line);
    // The rest of an over-long line counts as read once its newline was seen.
    origin_->read_offset = std::max(origin_->read_offset, splitter_.line_start());
    src.lines += metrics.lines_read - lines_before;
    total += static_cast<uint64_t>(n);
    if (static_cast<size_t>(n) < want) break;
    if (intake.full()) break;
  }
  if (total > 0) {
    last_data_ = limits_.now();
    return Status::data;
  }
  return Status::idle;
}

bool FileWatcher::flush_partial(Intake& intake, PipelineMetrics& metrics, bool force) {
  if (!splitter_.has_partial()) return false;
  if (!force && limits_.now() - last_data_ < limits_.partial_flush) return false;
  splitter_.flush([&](const RawLine& line) { emit(intake, metrics, line); });
  ++metrics.partial_lines_flushed;
  return true;
}

}  // namespace logferry
