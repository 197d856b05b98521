#include "aggregator/store_relay.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include "aggregator/entry_json.hpp"
#include "sidecar/core/logger.hpp"
#include "sidecar/core/replace_file.hpp"
#include "sidecar/core/unique_fd.hpp"

namespace logferry::aggregator {
namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kCursorFile = "relay-cursor";
constexpr std::string_view kCursorTemp = "relay-cursor.tmp";

// Reads "SEGMENT OFFSET\n"; {0, 0} (relay everything) when absent or unreadable.
StorePosition load_cursor(const fs::path& dir) {
  const UniqueFd fd(::open((dir / kCursorFile).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return {};
  char text[64];
  const ssize_t n = ::read(fd.get(), text, sizeof text - 1);
  if (n <= 0) return {};
  StorePosition p;
  const char* end = text + n;
  auto r = std::from_chars(text, end, p.segment);
  if (r.ec != std::errc() || r.ptr == end || *r.ptr != ' ') return {};
  r = std::from_chars(r.ptr + 1, end, p.offset);
  if (r.ec != std::errc()) return {};
  return p;
}

bool save_cursor(const fs::path& dir, StorePosition p) {
  // Created as open(2) creates it (the umask applies); the file synced, not its directory.
  return !replace_file(dir / kCursorFile, dir / kCursorTemp, fmt::format("{} {}\n", p.segment, p.offset),
                       {0600, FileSync::file, FileModeUmask::applies});
}

uint64_t time_ns(const v1::Entry& e) { return e.observed_time_unix_nano() != 0 ? e.observed_time_unix_nano() : e.time_unix_nano(); }

}  // namespace

StoreRelay::StoreRelay(asio::any_io_executor ex, SegmentStore& store, Relay& relay, AggregatorMetrics& metrics,
                       StoreRelayOptions options)
    : ex_(ex), store_(store), relay_(relay), metrics_(metrics), options_(options), timer_(ex) {}

StoreRelay::PodState& StoreRelay::state_for(std::string_view key, const fs::path& dir) {
  auto it = pods_.find(key);
  if (it != pods_.end()) return it->second;
  PodState& st = pods_[std::string(key)];
  st.dir = dir;
  st.acked = st.read = load_cursor(dir);
  return st;
}

std::string StoreRelay::open() {
  stored_at_open_ = metrics_.entries_stored.load();
  store_.for_each_pod([&](const PodSegments& pod) {
    PodState& st = state_for(pod.key, pod.dir);
    for (auto it = pod.sizes.lower_bound(st.acked.segment); it != pod.sizes.end(); ++it) {
      const uint64_t from = it->first == st.acked.segment ? st.acked.offset : 0;
      if (from < it->second) backlog_at_open_ += count_lines(pod.dir, it->first, from, it->second);
    }
  });
  if (backlog_at_open_ != 0) log_info("relaying the store's backlog", {{"lines", backlog_at_open_}});
  return {};
}

uint64_t StoreRelay::count_lines(const fs::path& dir, uint32_t index, uint64_t from, uint64_t to) const {
  const UniqueFd fd(::open((dir / segment_file_name(index)).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return 0;
  std::vector<char> block(1u << 20);
  uint64_t lines = 0;
  while (from < to) {
    const ssize_t n = ::pread(fd.get(), block.data(), std::min<uint64_t>(block.size(), to - from), static_cast<off_t>(from));
    if (n <= 0) break;
    lines += static_cast<uint64_t>(std::count(block.data(), block.data() + n, '\n'));
    from += static_cast<uint64_t>(n);
  }
  return lines;
}

void StoreRelay::start() { asio::co_spawn(ex_, run(), asio::detached); }

void StoreRelay::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  settle();
  save_cursors(true);
}

bool StoreRelay::settle() {
  bool moved = false;
  while (!in_flight_.empty() && in_flight_.front().origin->acked_offset != 0) {
    InFlight& f = in_flight_.front();
    auto it = pods_.find(f.key);
    if (it != pods_.end() && it->second.acked < f.end) {
      it->second.acked = f.end;
      it->second.dirty = true;
      moved = true;
    }
    answered_ += f.entries;
    in_flight_.pop_front();
  }
  return moved;
}

void StoreRelay::save_cursors(bool now) {
  const auto t = std::chrono::steady_clock::now();
  if (!now && t - last_save_ < options_.cursor_interval) return;
  last_save_ = t;
  for (auto& [key, st] : pods_) {
    if (!st.dirty) continue;
    if (save_cursor(st.dir, st.acked)) {
      st.dirty = false;
    } else {
      bump(metrics_.store_errors);
      log_limited(LogLevel::error, "cannot save a relay cursor",
                  {{"dir", st.dir.string()}, {"error", std::strerror(errno)}});
    }
  }
}

bool StoreRelay::submit_next(const std::string& key) {
  PodState& st = pods_.find(key)->second;
  const auto* sizes = store_.segments_of(key);
  if (sizes == nullptr) return false;
  // The next unread range: the rest of the read segment, else the next segment with bytes.
  auto it = sizes->lower_bound(st.read.segment);
  for (; it != sizes->end(); ++it) {
    if (it->first != st.read.segment) st.read = StorePosition{it->first, 0};
    if (st.read.offset < it->second) break;
  }
  if (it == sizes->end()) return false;
  const uint64_t to = it->second;
  const UniqueFd fd(::open((st.dir / segment_file_name(st.read.segment)).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    const int err = errno;
    log_limited(LogLevel::error, "cannot read a stored segment for the relay",
                {{"dir", st.dir.string()}, {"segment", st.read.segment}, {"error", std::strerror(err)}});
    if (err != ENOENT) return false;
    // Deleted behind the store's back: nothing of it can be relayed any more.
    st.read = StorePosition{st.read.segment, to};
    if (st.acked < st.read) st.acked = st.read, st.dirty = true;
    return true;
  }
  // Whole lines, at most batch_max_bytes unless one line is longer.
  size_t have = 0;
  size_t cut = 0;
  for (uint64_t want = std::min<uint64_t>(options_.batch_max_bytes, to - st.read.offset); cut == 0;) {
    buffer_.resize(static_cast<size_t>(want));
    const ssize_t n = ::pread(fd.get(), buffer_.data() + have, want - have, static_cast<off_t>(st.read.offset + have));
    if (n <= 0) return false;
    have += static_cast<size_t>(n);
    const size_t nl = std::string_view(buffer_.data(), have).rfind('\n');
    if (nl != std::string_view::npos) cut = nl + 1;
    else if (st.read.offset + have >= to) return false;  // sizes count whole lines only
    else want = std::min<uint64_t>(want * 2, to - st.read.offset);
  }
  v1::Batch batch;
  std::vector<std::string> source_keys;
  std::string source_key;
  uint64_t first_time = 0;
  size_t pos = 0;
  size_t entries = 0;
  while (pos < cut && entries < options_.batch_max_entries) {
    const size_t end = std::string_view(buffer_.data(), cut).find('\n', pos);
    const std::string_view line(buffer_.data() + pos, end - pos);
    pos = end + 1;
    if (!parser_.parse(line, line_)) {
      ++unreadable_;
      log_limited(LogLevel::warn, "a stored line cannot be read back: not relayed",
                  {{"dir", st.dir.string()}, {"segment", st.read.segment}});
      continue;
    }
    source_key = line_.source_id;
    source_key += '\0';
    source_key += line_.source_path;
    source_key += '\0';
    source_key += line_.resource_json;
    auto at = std::find(source_keys.begin(), source_keys.end(), source_key);
    if (at == source_keys.end()) {
      source_keys.push_back(source_key);
      auto* src = batch.add_sources();
      src->set_id(line_.source_id);
      src->set_path(line_.source_path);
      parser_.parse_key_values(line_.resource_json, *src->mutable_resource());
      at = source_keys.end() - 1;
    }
    const auto index = static_cast<uint32_t>(at - source_keys.begin());
    auto* src = batch.mutable_sources(static_cast<int>(index));
    src->set_end_offset(std::max(src->end_offset(), line_.entry.offset()));
    if (entries == 0) first_time = time_ns(line_.entry);
    v1::Entry* e = batch.add_entries();
    e->Swap(&line_.entry);
    e->set_source_index(index);
    ++entries;
  }
  const StorePosition end{st.read.segment, st.read.offset + pos};
  st.read = end;
  if (entries == 0) {  // nothing readable: nothing to wait for
    if (st.acked < end) st.acked = end, st.dirty = true;
    return true;
  }
  OriginPtr origin = relay_.submit(batch);
  in_flight_.push_back(InFlight{key, end, std::move(origin), entries, first_time});
  return true;
}

asio::awaitable<void> StoreRelay::run() {
  using namespace asio::experimental::awaitable_operators;
  std::vector<std::string> pending;
  while (!stopped_ && !draining_ && !relay_.stopped()) {
    settle();
    save_cursors(false);
    // Every Pod directory with unread bytes, one batch each per round.
    pending.clear();
    store_.for_each_pod([&](const PodSegments& pod) {
      const PodState& st = state_for(pod.key, pod.dir);
      const auto last = pod.sizes.empty() ? StorePosition{} : StorePosition{pod.sizes.rbegin()->first, pod.sizes.rbegin()->second};
      if (st.read < last) pending.emplace_back(pod.key);
    });
    bool any = false;
    for (const auto& key : pending) {
      co_await relay_.wait_for_room();
      if (stopped_ || draining_ || relay_.stopped()) co_return;
      any = submit_next(key) || any;
    }
    if (any) continue;
    timer_.expires_after(options_.cursor_interval);
    co_await (store_.appended_event().wait() || relay_.event().wait() ||
              timer_.async_wait(asio::as_tuple(asio::use_awaitable)));
  }
}

asio::awaitable<bool> StoreRelay::drain(std::chrono::steady_clock::time_point deadline) {
  // Nothing stored is lost by stopping: only the batches in flight are waited
  // for, so that the saved cursors spare the downstream their re-sending.
  draining_ = true;
  settle();
  while (!in_flight_.empty() && std::chrono::steady_clock::now() < deadline && !relay_.stopped()) {
    co_await relay_.event().wait_for(std::chrono::milliseconds(100));
    settle();
  }
  save_cursors(true);
  co_return in_flight_.empty();
}

bool StoreRelay::relayed(std::string_view dir_key, uint32_t index) const {
  const auto it = pods_.find(dir_key);
  if (it == pods_.end()) return false;
  const StorePosition acked = it->second.acked;
  if (acked.segment != index) return acked.segment > index;
  const auto* sizes = store_.segments_of(dir_key);
  const auto s = sizes != nullptr ? sizes->find(index) : std::map<uint32_t, uint64_t>::const_iterator{};
  return sizes == nullptr || s == sizes->end() || acked.offset >= s->second;
}

uint64_t StoreRelay::skip_segment(std::string_view dir_key, uint32_t index) {
  const auto it = pods_.find(dir_key);
  const auto* sizes = store_.segments_of(dir_key);
  if (it == pods_.end() || sizes == nullptr || !sizes->contains(index)) return 0;
  PodState& st = it->second;
  const uint64_t size = sizes->at(index);
  const StorePosition after{index, size};
  uint64_t lost = 0;
  if (st.acked < after) {
    const uint64_t from = st.acked.segment == index ? st.acked.offset : 0;
    lost = count_lines(st.dir, index, from, size);
    st.acked = after;
    st.dirty = true;
  }
  if (st.read < after) st.read = after;
  skipped_ += lost;
  return lost;
}

StorePosition StoreRelay::cursor(std::string_view dir_key) const {
  const auto it = pods_.find(dir_key);
  return it == pods_.end() ? StorePosition{} : it->second.acked;
}

uint64_t StoreRelay::lag_entries() const {
  const uint64_t stored = metrics_.entries_stored.load() - stored_at_open_;
  const uint64_t done = answered_ + skipped_ + unreadable_;
  return backlog_at_open_ + stored > done ? backlog_at_open_ + stored - done : 0;
}

uint64_t StoreRelay::lag_bytes() const {
  uint64_t bytes = 0;
  store_.for_each_pod([&](const PodSegments& pod) {
    const auto it = pods_.find(pod.key);
    const StorePosition acked = it == pods_.end() ? StorePosition{} : it->second.acked;
    for (auto s = pod.sizes.lower_bound(acked.segment); s != pod.sizes.end(); ++s) {
      const uint64_t from = s->first == acked.segment ? acked.offset : 0;
      if (from < s->second) bytes += s->second - from;
    }
  });
  return bytes;
}

double StoreRelay::lag_seconds() const {
  if (in_flight_.empty() || in_flight_.front().first_time_ns == 0) return 0;
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  const auto t = static_cast<int64_t>(in_flight_.front().first_time_ns);
  return now > t ? static_cast<double>(now - t) / 1e9 : 0.0;
}

}  // namespace logferry::aggregator
