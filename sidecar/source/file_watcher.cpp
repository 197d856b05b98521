#include "sidecar/source/file_watcher.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sidecar/core/logger.hpp"

namespace logferry {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

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
      offset_(offset),
      limits_(limits),
      partial_start_(offset),
      last_data_(std::chrono::steady_clock::now()) {
  refresh_head();
  origin_->read_offset = offset_;
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
  return ::fstat(fd_.get(), &st) == 0 && static_cast<uint64_t>(st.st_size) > offset_;
}

bool FileWatcher::replaced_in_place() {
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) return false;
  if (static_cast<uint64_t>(st.st_size) < offset_) return true;
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
  offset_ = 0;
  partial_.clear();
  partial_start_ = 0;
  skipping_ = false;
  head_.clear();
  origin_->read_offset = 0;
  refresh_head();
}

void FileWatcher::emit(Intake& intake, Metrics& metrics, std::string_view text, uint64_t start, uint64_t end,
                       bool truncated) {
  intake.accept(origin_, RawLine{text, start, end, truncated});
  origin_->read_offset = end;
  ++metrics.lines_read;
  if (truncated) ++metrics.lines_truncated;
}

void FileWatcher::consume(std::string_view chunk, Intake& intake, Metrics& metrics) {
  const uint64_t chunk_start = offset_;
  size_t pos = 0;
  while (pos < chunk.size()) {
    const char* nl = static_cast<const char*>(std::memchr(chunk.data() + pos, '\n', chunk.size() - pos));
    const size_t line_end = nl ? static_cast<size_t>(nl - chunk.data()) : chunk.size();
    const std::string_view piece = chunk.substr(pos, line_end - pos);
    const uint64_t piece_start = chunk_start + pos;
    if (skipping_) {
      // The rest of an over-long line: not forwarded (its head was, marked truncated).
      if (nl) {
        skipping_ = false;
        partial_start_ = chunk_start + line_end + 1;
        origin_->read_offset = partial_start_;
      }
    } else if (nl && partial_.empty()) {
      // The fast path: a whole line inside the buffer, handed over without a copy.
      if (piece.size() > limits_.max_line_bytes) {
        emit(intake, metrics, piece.substr(0, limits_.max_line_bytes), piece_start, piece_start + piece.size() + 1, true);
      } else {
        emit(intake, metrics, piece, piece_start, piece_start + piece.size() + 1, false);
      }
      partial_start_ = piece_start + piece.size() + 1;
    } else {
      if (partial_.empty()) partial_start_ = piece_start;
      const size_t room = limits_.max_line_bytes - std::min<size_t>(partial_.size(), limits_.max_line_bytes);
      partial_.append(piece.substr(0, room));
      if (piece.size() > room) {
        // Over-long: forward the head now, skip the rest up to the newline.
        const uint64_t end = nl ? chunk_start + line_end + 1 : chunk_start + line_end;
        emit(intake, metrics, partial_, partial_start_, end, true);
        partial_.clear();
        skipping_ = nl == nullptr;
        partial_start_ = end;
      } else if (nl) {
        emit(intake, metrics, partial_, partial_start_, chunk_start + line_end + 1, false);
        partial_.clear();
        partial_start_ = chunk_start + line_end + 1;
      }
    }
    pos = line_end + (nl ? 1 : 0);
  }
  offset_ = chunk_start + chunk.size();
}

FileWatcher::Status FileWatcher::read_some(std::span<char> buffer, uint64_t budget, Intake& intake,
                                           Metrics& metrics) {
  uint64_t total = 0;
  while (total < budget) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), budget - total));
    const ssize_t n = ::pread(fd_.get(), buffer.data(), want, static_cast<off_t>(offset_));
    if (n < 0) {
      if (errno == EINTR) continue;
      ++metrics.read_errors;
      log_limited(LogLevel::warn, "file read failed", {{"path", origin_->path}, {"error", std::strerror(errno)}});
      return total > 0 ? Status::data : Status::error;
    }
    if (n == 0) break;
    if (head_.size() < kHeadBytes && offset_ < kHeadBytes) refresh_head();
    auto& src = metrics.per_source[origin_->path];
    src.bytes += static_cast<uint64_t>(n);
    const uint64_t lines_before = metrics.lines_read;
    metrics.bytes_read += static_cast<uint64_t>(n);
    consume(std::string_view(buffer.data(), static_cast<size_t>(n)), intake, metrics);
    src.lines += metrics.lines_read - lines_before;
    total += static_cast<uint64_t>(n);
    if (static_cast<size_t>(n) < want) break;
    if (intake.full()) break;
  }
  if (total > 0) {
    last_data_ = std::chrono::steady_clock::now();
    return Status::data;
  }
  return Status::idle;
}

bool FileWatcher::flush_partial(Intake& intake, Metrics& metrics, bool force) {
  if (partial_.empty()) return false;
  if (!force && std::chrono::steady_clock::now() - last_data_ < limits_.partial_flush) return false;
  emit(intake, metrics, partial_, partial_start_, offset_, false);
  ++metrics.partial_lines_flushed;
  partial_.clear();
  partial_start_ = offset_;
  return true;
}

}  // namespace logferry
