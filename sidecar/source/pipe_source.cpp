#include "sidecar/source/pipe_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "sidecar/core/clock.hpp"
#include "sidecar/core/json_escape.hpp"
#include "sidecar/core/logger.hpp"

namespace logferry {

namespace asio = boost::asio;

namespace {
constexpr size_t kReadChunkBytes = 64 * 1024;  // the default pipe capacity
constexpr auto kTick = std::chrono::seconds(1);  // re-check acks of spilled segments

uint64_t random_u64() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) | rd();
}
}  // namespace

UniqueFd ensure_fifo(const std::string& path, uint32_t mode) {
  bool created = ::mkfifo(path.c_str(), mode) == 0;
  if (!created && errno != EEXIST) {
    throw std::runtime_error(fmt::format("LOGFERRY_PIPE: cannot create the named pipe {}: {}", path, std::strerror(errno)));
  }
  // Read and write: the pipe never reports end-of-file (we are a writer too),
  // and the open does not wait for the app. O_NOFOLLOW: never a link's target.
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
  if (!fd) {
    if (errno == ELOOP) throw std::runtime_error(fmt::format("LOGFERRY_PIPE: {} is a symbolic link; refusing it", path));
    throw std::runtime_error(fmt::format("LOGFERRY_PIPE: cannot open {}: {}", path, std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISFIFO(st.st_mode)) {
    throw std::runtime_error(fmt::format("LOGFERRY_PIPE: {} exists and is not a named pipe", path));
  }
  if (created) {
    // mkfifo applies the umask; the configured mode is meant as written.
    if (::fchmod(fd.get(), mode) != 0) {
      throw std::runtime_error(fmt::format("LOGFERRY_PIPE: cannot set the mode of {}: {}", path, std::strerror(errno)));
    }
    log_info("created named pipe", {{"path", path}, {"mode", fmt::format("{:04o}", mode)}});
  }
  return fd;
}

PipeSource::PipeSource(asio::any_io_executor ex, const PipeSourceOptions& options, const ReadOptions& read,
                       PipelineMetrics& metrics)
    : ex_(ex),
      options_(options),
      read_(read),
      metrics_(metrics),
      pipe_(ex),
      splitter_(read.max_line_bytes),
      buffer_(kReadChunkBytes),
      last_data_(std::chrono::steady_clock::now()),
      wake_(ex) {
  const UniqueFd fd = ensure_fifo(options.path, options.file_mode);
  const int own = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0);  // the stream descriptor owns this one
  if (own < 0) throw std::runtime_error(fmt::format("LOGFERRY_PIPE: cannot open {}: {}", options.path, std::strerror(errno)));
  pipe_.assign(own);
  origin_ = std::make_shared<Origin>();
  origin_->path = utf8_repaired(options.path);
  origin_->id = fmt::format("pipe:{}:{:016x}", origin_->path, random_u64());
  if (options.spill_max_bytes > 0 && !options.spill_dir.empty()) spill_.emplace(options.spill_dir, options.spill_max_bytes);
  update_gauges();
}

PipeSource::~PipeSource() {
  if (spill_) spill_->release_acked();
}

void PipeSource::drain() {
  draining_ = true;
  wake_.notify();
}

void PipeSource::update_gauges() { metrics_.spill_bytes = spill_ ? spill_->bytes() : 0; }

void PipeSource::accept(Intake& intake, const OriginPtr& origin, const RawLine& line) {
  intake.accept(origin, read_time_.stamp(line));
  origin->read_offset = line.end_offset;
}

void PipeSource::drop_line() {
  ++metrics_.dropped_lines["pipe_overflow"];
  log_limited(LogLevel::warn, "pipe overflow: dropping lines",
              {{"policy", options_.overflow == PipeOverflow::drop_oldest ? "drop_oldest" : "drop_newest"},
               {"dropped_total", metrics_.dropped_lines["pipe_overflow"]}});
}

bool PipeSource::blocked(const Intake& intake) const {
  if (options_.overflow != PipeOverflow::block) return false;
  const bool backlog = spill_ && spill_->has_pending();
  if (!backlog && !intake.full()) return false;
  return !spill_ || spill_->bytes() + kReadChunkBytes > spill_->max_bytes();
}

void PipeSource::route(Intake& intake, const RawLine& line) {
  ++metrics_.lines_read;
  ++metrics_.per_source[origin_->path].lines;
  if (line.truncated) ++metrics_.lines_truncated;
  const bool backlog = spill_ && spill_->has_pending();
  if (!backlog && !intake.full()) return accept(intake, origin_, line);
  if (!spill_) {
    // Block: only the rest of the current read gets here (reading then stops).
    if (options_.overflow == PipeOverflow::block) return accept(intake, origin_, line);
    return drop_line();
  }
  // The line's observed time is now, not when it is replayed (docs/ordering.md).
  const RawLine read = read_time_.stamp(line);
  auto r = spill_->push(origin_, read);
  while (r == SpillQueue::Push::full && options_.overflow == PipeOverflow::drop_oldest) {
    const uint64_t dropped = spill_->drop_oldest();
    if (dropped == 0) break;
    metrics_.dropped_lines["pipe_overflow"] += dropped;
    r = spill_->push(origin_, read);
  }
  if (r == SpillQueue::Push::full && options_.overflow == PipeOverflow::block) {
    r = spill_->push(origin_, read, SpillQueue::Bound::exceed);
  }
  if (r == SpillQueue::Push::stored) return;
  // A failed spill write: without a backlog the line may still go in order to memory.
  if (r == SpillQueue::Push::failed && !spill_->has_pending()) return accept(intake, origin_, line);
  drop_line();
}

void PipeSource::replay(Intake& intake) {
  if (!spill_) return;
  read_time_.reset();
  uint64_t budget = read_.read_budget_bytes;
  while (true) {
    const OriginPtr next = spill_->pending_origin();
    if (replaying_ && replaying_ != next) {
      // Every spilled line of an earlier run's stream was handed over.
      if (replaying_ != origin_) intake.retire(replaying_);
      replaying_ = nullptr;
    }
    if (!next || intake.full() || budget == 0) break;
    auto r = spill_->next();
    if (!r) continue;
    replaying_ = r->origin;
    accept(intake, r->origin, r->line);
    budget -= std::min<uint64_t>(budget, r->line.text.size() + 1);
  }
  spill_->release_acked();
  update_gauges();
}

size_t PipeSource::read_available(Intake& intake) {
  const LineSplitter::Emit emit = [&](const RawLine& line) { route(intake, line); };
  read_time_.reset();
  size_t total = 0;
  while (total < read_.read_budget_bytes && !blocked(intake)) {
    const ssize_t n = ::read(pipe_.native_handle(), buffer_.data(), buffer_.size());
    if (n > 0) {
      metrics_.bytes_read += static_cast<uint64_t>(n);
      metrics_.per_source[origin_->path].bytes += static_cast<uint64_t>(n);
      splitter_.consume(std::string_view(buffer_.data(), static_cast<size_t>(n)), emit);
      total += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      ++metrics_.read_errors;
      log_limited(LogLevel::warn, "pipe read failed", {{"path", origin_->path}, {"error", std::strerror(errno)}});
    }
    break;
  }
  if (spill_) spill_->flush();
  if (total > 0) last_data_ = std::chrono::steady_clock::now();
  return total;
}

void PipeSource::flush_partial(Intake& intake, bool force) {
  if (!splitter_.has_partial()) return;
  if (!force && std::chrono::steady_clock::now() - last_data_ < read_.partial_flush) return;
  read_time_.reset();
  splitter_.flush([&](const RawLine& line) { route(intake, line); });
  ++metrics_.partial_lines_flushed;
  if (spill_) spill_->flush();
}

asio::awaitable<void> PipeSource::run(Intake& intake) {
  using namespace asio::experimental::awaitable_operators;
  auto readable = [this]() -> asio::awaitable<void> {
    co_await pipe_.async_wait(asio::posix::stream_descriptor::wait_read, asio::as_tuple(asio::use_awaitable));
  };
  metrics_.sources_open = true;
  log_info("reading named pipe", {{"path", origin_->path}, {"id", origin_->id}});
  while (!draining_) {
    replay(intake);
    if (blocked(intake)) {
      // Policy block: leave the bytes in the pipe until memory or spill has room.
      co_await (intake.wait_for_room() || wake_.wait_for(kTick));
      continue;
    }
    const size_t n = read_available(intake);
    flush_partial(intake, false);
    update_gauges();
    const bool more_to_replay = spill_ && spill_->has_pending() && !intake.full();
    if (n >= read_.read_budget_bytes || more_to_replay) {
      co_await asio::post(ex_, asio::use_awaitable);  // let delivery run between passes
      continue;
    }
    auto timeout = std::chrono::steady_clock::duration(kTick);
    if (splitter_.has_partial()) {
      const auto left = last_data_ + read_.partial_flush - std::chrono::steady_clock::now();
      timeout = std::clamp<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(1), kTick);
    }
    if (spill_ && spill_->has_pending()) {
      co_await (readable() || intake.wait_for_room() || wake_.wait_for(timeout));
    } else {
      co_await (readable() || wake_.wait_for(timeout));
    }
  }
  // Drain: take what the pipe holds now, then hand over spilled lines while
  // the output takes them (whatever is left stays on disk for the next run).
  read_available(intake);
  flush_partial(intake, true);
  while (spill_ && spill_->has_pending()) {
    replay(intake);
    if (!spill_->has_pending()) break;
    if (intake.full()) {
      co_await (intake.wait_for_room() || wake_.wait_for(kTick));
    } else {
      co_await asio::post(ex_, asio::use_awaitable);
    }
  }
  replay(intake);  // retires an earlier run's stream whose last line was just handed over
  intake.retire(origin_);
  if (spill_) spill_->seal();
  update_gauges();
}

}  // namespace logferry
