#include "sidecar/source/stdin_source.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "sidecar/core/logger.hpp"

namespace logferry {

namespace asio = boost::asio;

namespace {
constexpr size_t kStdinChunkBytes = 64 * 1024;
constexpr auto kStdinTick = std::chrono::seconds(1);
}  // namespace

StdinSource::StdinSource(asio::any_io_executor ex, const ReadOptions& read, PipelineMetrics& metrics, int fd)
    : ex_(ex),
      read_(read),
      metrics_(metrics),
      fd_(fd),
      splitter_(read.max_line_bytes),
      buffer_(kStdinChunkBytes),
      last_data_(std::chrono::steady_clock::now()),
      wake_(ex) {
  std::random_device rd;
  origin_ = std::make_shared<Origin>();
  origin_->id = fmt::format("stdin:{:08x}{:08x}", rd(), rd());
  origin_->path = "stdin";
  struct stat st {};
  const bool pollable = ::fstat(fd_, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
                                                   (S_ISCHR(st.st_mode) && ::isatty(fd_)));
  if (pollable) {
    const int dup = ::fcntl(fd_, F_DUPFD_CLOEXEC, 3);
    if (dup >= 0) waiter_.emplace(ex, dup);
  }
}

StdinSource::~StdinSource() = default;

void StdinSource::drain() {
  draining_ = true;
  wake_.notify();
}

bool StdinSource::ready() const {
  if (!waiter_) return true;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

void StdinSource::emit(Intake& intake, const RawLine& line) {
  intake.accept(origin_, read_time_.stamp(line));
  origin_->read_offset = line.end_offset;
  ++metrics_.lines_read;
  ++metrics_.per_source[origin_->path].lines;
  if (line.truncated) ++metrics_.lines_truncated;
}

void StdinSource::flush_partial(Intake& intake) {
  read_time_.reset();
  if (splitter_.flush([&](const RawLine& line) { emit(intake, line); })) ++metrics_.partial_lines_flushed;
}

StdinSource::Read StdinSource::read_once(Intake& intake) {
  const ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) return Read::nothing;
    ++metrics_.read_errors;
    log_error("stdin read failed; treating it as end of input", {{"error", std::strerror(errno)}});
    return Read::end;
  }
  if (n == 0) return Read::end;
  read_time_.reset();
  metrics_.bytes_read += static_cast<uint64_t>(n);
  metrics_.per_source[origin_->path].bytes += static_cast<uint64_t>(n);
  splitter_.consume(std::string_view(buffer_.data(), static_cast<size_t>(n)),
                    [&](const RawLine& line) { emit(intake, line); });
  origin_->read_offset = std::max(origin_->read_offset, splitter_.line_start());
  last_data_ = std::chrono::steady_clock::now();
  return Read::data;
}

asio::awaitable<void> StdinSource::run(Intake& intake) {
  using namespace asio::experimental::awaitable_operators;
  metrics_.sources_open = true;
  log_info("reading standard input", {{"id", origin_->id}});
  uint64_t since_yield = 0;
  bool at_end = false;
  while (!at_end) {
    if (intake.full() && !draining_) {
      co_await (intake.wait_for_room() || wake_.wait());
      continue;
    }
    if (!ready()) {
      if (draining_) break;  // read what was there; the rest stays with the writer
      auto timeout = std::chrono::steady_clock::duration(kStdinTick);
      if (splitter_.has_partial()) {
        timeout = std::clamp<std::chrono::steady_clock::duration>(
            last_data_ + read_.partial_flush - std::chrono::steady_clock::now(), std::chrono::milliseconds(1), kStdinTick);
      }
      co_await (waiter_->async_wait(asio::posix::stream_descriptor::wait_read, asio::as_tuple(asio::use_awaitable)) ||
                wake_.wait_for(timeout));
      if (std::chrono::steady_clock::now() - last_data_ >= read_.partial_flush) flush_partial(intake);
      continue;
    }
    const Read r = read_once(intake);
    at_end = r == Read::end;
    if (r == Read::data) since_yield += kStdinChunkBytes;
    if (since_yield >= read_.read_budget_bytes) {
      since_yield = 0;
      co_await asio::post(ex_, asio::use_awaitable);  // let delivery run between reads
    }
  }
  // End of input (or drain): the last unterminated line is forwarded now.
  flush_partial(intake);
  intake.retire(origin_);
  if (at_end) log_info("standard input ended", {{"bytes", splitter_.offset()}});
}

}  // namespace logferry
