#include "sidecar/source/spill_queue.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "sidecar/core/json_escape.hpp"
#include "sidecar/core/logger.hpp"
#include "sidecar/core/private_dir.hpp"

namespace logferry {

namespace {

constexpr std::string_view kMagic = "logferry-spill 1\n";
constexpr size_t kRecordHeader = 8 + 8 + 4 + 1;
constexpr unsigned kFlagTruncated = 1;
constexpr unsigned kFlagReadTime = 2;  // the record header is followed by the read time (8 bytes)
constexpr uint64_t kMinSegmentBytes = 16 * 1024;
constexpr uint64_t kMaxSegmentBytes = 4 * 1024 * 1024;
constexpr size_t kWriteBufferBytes = 256 * 1024;

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string header_for(const Origin& origin) { return fmt::format("{}{}\n{}\n", kMagic, origin.id, origin.path); }

struct Header {
  std::string id, path;
  size_t size = 0;
};

std::optional<Header> parse_header(std::string_view buf) {
  if (!buf.starts_with(kMagic)) return std::nullopt;
  const size_t id_end = buf.find('\n', kMagic.size());
  if (id_end == std::string_view::npos || id_end == kMagic.size()) return std::nullopt;
  const size_t path_end = buf.find('\n', id_end + 1);
  if (path_end == std::string_view::npos) return std::nullopt;
  return Header{std::string(buf.substr(kMagic.size(), id_end - kMagic.size())),
                std::string(buf.substr(id_end + 1, path_end - id_end - 1)), path_end + 1};
}

// The record at `pos`, or nullopt when the rest of `buf` is not a whole, sane
// record (a torn append, or damage); `pos` moves past a record returned.
std::optional<RawLine> parse_record(std::string_view buf, size_t& pos, uint64_t prev_end) {
  if (buf.size() - pos < kRecordHeader) return std::nullopt;
  const char* p = buf.data() + pos;
  RawLine line;
  line.offset = get_le(p, 8);
  line.end_offset = get_le(p + 8, 8);
  const uint64_t len = get_le(p + 16, 4);
  const auto flags = static_cast<unsigned char>(p[20]);
  const size_t header = kRecordHeader + ((flags & kFlagReadTime) ? 8 : 0);
  if (buf.size() - pos < header || len > buf.size() - pos - header || (flags & ~(kFlagTruncated | kFlagReadTime)) != 0 ||
      line.offset < prev_end || line.end_offset < line.offset + len) {
    return std::nullopt;
  }
  if (flags & kFlagReadTime) line.read_unix_nano = get_le(p + kRecordHeader, 8);
  line.text = buf.substr(pos + header, len);
  line.truncated = (flags & kFlagTruncated) != 0;
  pos += header + len;
  return line;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::optional<std::string> read_whole(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::string out;
  char buf[64 * 1024];
  while (true) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

void sync_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd) ::fsync(fd.get());
}

}  // namespace

SpillQueue::SpillQueue(std::string dir, uint64_t max_bytes)
    : dir_(std::move(dir)),
      max_bytes_(max_bytes),
      segment_bytes_(std::clamp(max_bytes / 8, kMinSegmentBytes, kMaxSegmentBytes)) {
  if (const auto ec = create_private_directories(dir_)) throw std::runtime_error(fmt::format("LOGFERRY_SPILL_DIR: cannot create {}: {}", dir_, ec.message()));
  adopt_existing();
}

SpillQueue::~SpillQueue() { seal(); }

void SpillQueue::adopt_existing() {
  std::vector<std::pair<uint64_t, std::string>> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() != 20 || !name.ends_with(".seg")) continue;
    if (!std::all_of(name.begin(), name.begin() + 16, [](char ch) { return ch >= '0' && ch <= '9'; })) continue;
    found.emplace_back(std::stoull(name.substr(0, 16)), entry.path().string());
  }
  if (ec) throw std::runtime_error(fmt::format("LOGFERRY_SPILL_DIR: cannot list {}: {}", dir_, ec.message()));
  std::sort(found.begin(), found.end());
  std::map<std::string, OriginPtr> origins;  // by id: one stream may span segments
  for (const auto& [seq, path] : found) {
    next_seq_ = std::max(next_seq_, seq + 1);
    const auto bytes = read_whole(path);
    const auto header = bytes ? parse_header(*bytes) : std::nullopt;
    Segment seg;
    seg.seq = seq;
    seg.path = path;
    seg.sealed = true;
    if (header) {
      size_t pos = header->size;
      uint64_t first = 0;
      while (auto line = parse_record(*bytes, pos, seg.last_end)) {
        if (seg.lines++ == 0) first = line->offset;
        seg.last_end = line->end_offset;
      }
      if (pos != bytes->size()) log_warn("spill segment has a damaged tail; it is skipped", {{"path", path}});
      auto& origin = origins[header->id];
      if (!origin && seg.lines > 0) {
        origin = std::make_shared<Origin>();
        origin->id = utf8_repaired(header->id);  // read back from a directory others may share
        origin->path = utf8_repaired(header->path);
        origin->acked_offset = first;
        origin->read_offset = first;
      }
      seg.origin = origin;
    }
    if (!header || seg.lines == 0) {
      if (!header) log_warn("not a spill segment (bad header); removing it", {{"path", path}});
      ::unlink(path.c_str());
      continue;
    }
    seg.bytes = bytes->size();
    bytes_ += seg.bytes;
    pending_lines_ += seg.lines;
    segments_.push_back(std::move(seg));
  }
  if (!segments_.empty()) {
    log_info("replaying pipe lines spilled by an earlier run",
             {{"dir", dir_}, {"segments", segments_.size()}, {"lines", pending_lines_}, {"bytes", bytes_}});
  }
}

bool SpillQueue::open_tail(const OriginPtr& origin) {
  Segment seg;
  seg.seq = next_seq_++;
  seg.path = fmt::format("{}/{:016}.seg", dir_, seg.seq);
  seg.origin = origin;
  UniqueFd fd(::open(seg.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600));
  if (!fd) {
    log_limited(LogLevel::error, "cannot create spill segment", {{"path", seg.path}, {"error", std::strerror(errno)}});
    return false;
  }
  tail_fd_ = std::move(fd);
  write_buf_ = header_for(*origin);
  seg.bytes = write_buf_.size();
  bytes_ += seg.bytes;
  segments_.push_back(std::move(seg));
  return true;
}

std::error_code SpillQueue::flush() {
  if (write_buf_.empty() || !tail_fd_) return {};
  const bool ok = write_all(tail_fd_.get(), write_buf_);
  const int err = errno;
  write_buf_.clear();
  if (!ok) {
    log_limited(LogLevel::error, "cannot write spill segment",
                {{"path", segments_.back().path}, {"error", std::strerror(err)}});
    return {err, std::generic_category()};
  }
  return {};
}

void SpillQueue::close_tail(bool sync) {
  if (!tail_fd_) return;
  flush();
  if (sync) ::fdatasync(tail_fd_.get());
  tail_fd_ = UniqueFd();
  segments_.back().sealed = true;
  if (sync) sync_dir(dir_);
}

void SpillQueue::seal() { close_tail(true); }

SpillQueue::Push SpillQueue::push(const OriginPtr& origin, const RawLine& line, Bound bound) {
  const uint64_t record = kRecordHeader + (line.read_unix_nano != 0 ? 8 : 0) + line.text.size();
  const bool fresh = !tail_fd_ || segments_.back().origin != origin;
  const uint64_t need = record + (fresh ? header_for(*origin).size() : 0);
  if (bound == Bound::respect && bytes_ + need > max_bytes_) return Push::full;
  if (fresh) {
    close_tail(true);
    if (!open_tail(origin)) return Push::failed;
  }
  Segment& seg = segments_.back();
  put_le(write_buf_, line.offset, 8);
  put_le(write_buf_, line.end_offset, 8);
  put_le(write_buf_, line.text.size(), 4);
  write_buf_.push_back(static_cast<char>((line.truncated ? kFlagTruncated : 0) |
                                         (line.read_unix_nano != 0 ? kFlagReadTime : 0)));
  if (line.read_unix_nano != 0) put_le(write_buf_, line.read_unix_nano, 8);
  write_buf_.append(line.text);
  seg.bytes += record;
  seg.lines += 1;
  seg.last_end = line.end_offset;
  bytes_ += record;
  pending_lines_ += 1;
  if (seg.bytes >= segment_bytes_) {
    close_tail(true);
  } else if (write_buf_.size() >= kWriteBufferBytes) {
    flush();
  }
  return Push::stored;
}

bool SpillQueue::load_for_replay(Segment& seg) {
  if (!seg.sealed) close_tail(true);  // the segment being written: seal it, newer lines start another
  auto bytes = read_whole(seg.path);
  const auto header = bytes ? parse_header(*bytes) : std::nullopt;
  if (!header) {
    log_limited(LogLevel::error, "cannot read spill segment; its lines are lost",
                {{"path", seg.path}, {"lines", seg.lines - seg.replayed}});
    return false;
  }
  read_buf_ = std::move(*bytes);
  read_pos_ = header->size;
  read_end_ = 0;
  reading_seq_ = seg.seq;
  return true;
}

std::optional<SpillQueue::Replayed> SpillQueue::next() {
  for (auto& seg : segments_) {
    if (seg.replayed >= seg.lines) continue;
    if (seg.seq == reading_seq_ || load_for_replay(seg)) {
      if (auto line = parse_record(read_buf_, read_pos_, read_end_)) {
        read_end_ = line->end_offset;
        ++seg.replayed;
        --pending_lines_;
        return Replayed{seg.origin, *line};
      }
      log_limited(LogLevel::error, "spill segment damaged; the rest of it is lost",
                  {{"path", seg.path}, {"lines", seg.lines - seg.replayed}});
    }
    // What could not be read counts as gone: the segment ends at its last good line.
    pending_lines_ -= seg.lines - seg.replayed;
    seg.lines = seg.replayed;
    seg.last_end = seg.seq == reading_seq_ ? read_end_ : 0;
  }
  std::string().swap(read_buf_);
  reading_seq_ = 0;
  return std::nullopt;
}

OriginPtr SpillQueue::pending_origin() const {
  for (const auto& seg : segments_) {
    if (seg.replayed < seg.lines) return seg.origin;
  }
  return nullptr;
}

void SpillQueue::remove_segment(std::deque<Segment>::iterator it) {
  if (std::next(it) == segments_.end() && tail_fd_) {
    write_buf_.clear();
    tail_fd_ = UniqueFd();
  }
  if (it->seq == reading_seq_) {
    std::string().swap(read_buf_);
    reading_seq_ = 0;
  }
  ::unlink(it->path.c_str());
  bytes_ -= it->bytes;
  segments_.erase(it);
}

void SpillQueue::release_acked() {
  while (!segments_.empty()) {
    auto& front = segments_.front();
    if (front.replayed < front.lines || !front.sealed) return;
    if (front.lines > 0 && front.origin->acked_offset < front.last_end) return;
    remove_segment(segments_.begin());
  }
}

uint64_t SpillQueue::drop_oldest() {
  for (auto it = segments_.begin(); it != segments_.end(); ++it) {
    if (it->replayed > 0 || it->lines == 0) continue;
    const uint64_t lines = it->lines;
    pending_lines_ -= lines;
    log_limited(LogLevel::warn, "spill full: dropping its oldest segment", {{"path", it->path}, {"lines", lines}});
    remove_segment(it);
    return lines;
  }
  return 0;
}

}  // namespace logferry
