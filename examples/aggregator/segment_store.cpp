#include "aggregator/segment_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "aggregator/entry_json.hpp"
#include "sidecar/core/json_escape.hpp"
#include "sidecar/core/logger.hpp"
#include "sidecar/core/replace_file.hpp"
#include "sidecar/core/unique_fd.hpp"

namespace logferry::aggregator {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kSegmentPrefix = "segment-";
constexpr std::string_view kSegmentSuffix = ".ndjson";
// Written before segments are deleted: the next segment index and the highest
// offset of every source, so that deleting data never makes a re-sent entry new.
constexpr std::string_view kStateFile = "dedupe-state";
constexpr std::string_view kStateTemp = "dedupe-state.tmp";
constexpr std::string_view kNextSegmentPrefix = "{\"next_segment\":";
// Per-batch buffers above this capacity are released after the batch.
constexpr size_t kKeepBufferBytes = 4u << 20;

mode_t file_mode(StoreMode m) { return m == StoreMode::group ? 0640 : 0600; }
mode_t dir_mode(StoreMode m) { return m == StoreMode::group ? 0750 : 0700; }

// Creates `dir` and its missing parents below `root` with `mode` (whatever the umask).
std::error_code make_dirs(const fs::path& root, const fs::path& dir, mode_t mode) {
  std::error_code ec;
  if (fs::exists(dir, ec)) return {};
  if (dir != root && dir.has_parent_path()) {
    if (auto pec = make_dirs(root, dir.parent_path(), mode)) return pec;
  }
  if (::mkdir(dir.c_str(), mode) != 0) {
    if (errno == EEXIST) return {};
    return std::error_code(errno, std::generic_category());
  }
  ::chmod(dir.c_str(), mode);  // the umask may have narrowed it
  return {};
}

// The index of a segment file name, or 0 when the name is not a segment's.
uint32_t segment_index(std::string_view name) {
  if (!name.starts_with(kSegmentPrefix) || !name.ends_with(kSegmentSuffix)) return 0;
  name = name.substr(kSegmentPrefix.size(), name.size() - kSegmentPrefix.size() - kSegmentSuffix.size());
  uint32_t n = 0;
  const auto r = std::from_chars(name.data(), name.data() + name.size(), n);
  return r.ec == std::errc() && r.ptr == name.data() + name.size() ? n : 0;
}

void fsync_dir(const fs::path& dir) {
  const UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd) ::fsync(fd.get());
}

std::string_view label(const v1::Batch& batch, std::string_view key) {
  for (const auto& kv : batch.resource()) {
    if (kv.key() == key && kv.value().value_case() == v1::AnyValue::kStringValue) return kv.value().string_value();
  }
  return {};
}

}  // namespace

std::string segment_file_name(uint32_t index) { return fmt::format("segment-{:06}.ndjson", index); }

uint64_t truncate_partial_line(int fd, uint64_t size) {
  // Walk back from the end in blocks to the last '\n'.
  char block[65536];
  uint64_t end = size;
  while (end > 0) {
    const uint64_t start = end > sizeof block ? end - sizeof block : 0;
    const ssize_t n = ::pread(fd, block, end - start, static_cast<off_t>(start));
    if (n != static_cast<ssize_t>(end - start)) return 0;
    for (uint64_t i = end - start; i > 0; --i) {
      if (block[i - 1] == '\n') {
        const uint64_t keep = start + i;
        if (keep != size && ::ftruncate(fd, static_cast<off_t>(keep)) != 0) return 0;
        return size - keep;
      }
    }
    end = start;
  }
  if (size != 0 && ::ftruncate(fd, 0) != 0) return 0;
  return size;
}

SegmentStore::SegmentStore(boost::asio::any_io_executor executor, StoreOptions options, AggregatorMetrics& metrics)
    : options_(std::move(options)),
      metrics_(metrics),
      commit_(executor, options_.fsync, metrics),
      appended_(executor),
      room_(executor) {}

std::string SegmentStore::open() {
  std::error_code ec;
  fs::create_directories(options_.data_dir, ec);
  if (ec) return fmt::format("cannot create {}: {}", options_.data_dir, ec.message());
  for (const auto& ns : fs::directory_iterator(options_.data_dir, ec)) {
    if (!ns.is_directory()) continue;
    for (const auto& pod_dir : fs::directory_iterator(ns.path(), ec)) {
      if (!pod_dir.is_directory()) continue;
      const std::string key = ns.path().filename().string() + "/" + pod_dir.path().filename().string();
      Pod& pod = pods_[key];
      pod.dir = pod_dir.path();
      if (auto err = scan_pod(pod); !err.empty()) return err;
    }
    if (ec) break;
  }
  if (ec) return fmt::format("cannot list {}: {}", options_.data_dir, ec.message());
  return {};
}

std::string SegmentStore::load_state(Pod& pod) {
  const fs::path path = pod.dir / kStateFile;
  std::string text;
  {
    const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
      if (errno == ENOENT) return {};
      return fmt::format("cannot open {}: {}", path.string(), std::strerror(errno));
    }
    char block[65536];
    for (;;) {
      const ssize_t n = ::read(fd.get(), block, sizeof block);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      text.append(block, static_cast<size_t>(n));
    }
  }
  std::string_view rest(text);
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    LineKey key;
    if (line.starts_with(kNextSegmentPrefix)) {
      uint32_t next = 0;
      const auto digits = line.substr(kNextSegmentPrefix.size());
      std::from_chars(digits.data(), digits.data() + digits.size(), next);
      if (next > 0) pod.segment_index = std::max(pod.segment_index, next - 1);  // never reused
    } else if (parse_line_key(line, key)) {
      auto [it, fresh] = pod.highest.try_emplace(std::string(key.source_id_json), key.offset);
      if (!fresh) it->second = std::max(it->second, key.offset);
    }
  }
  return {};
}

boost::system::error_code SegmentStore::save_state(const Pod& pod) {
  // Indexes up to the current one are never used again, even once deleted.
  std::string text(kNextSegmentPrefix);
  append_uint(text, static_cast<uint64_t>(pod.segment_index) + 1);
  text += "}\n";
  for (const auto& [id, offset] : pod.highest) {
    text += "{\"source_id\":";
    text += id;
    text += ",\"offset\":";
    append_uint(text, offset);
    text += "}\n";
  }
  // Created as open(2) creates it (the umask applies), synced with its directory.
  return replace_file(pod.dir / kStateFile, pod.dir / kStateTemp, text,
                      {file_mode(options_.mode), FileSync::file_and_directory, FileModeUmask::applies});
}

std::string SegmentStore::scan_pod(Pod& pod) {
  if (auto err = load_state(pod); !err.empty()) return err;
  std::vector<uint32_t> indexes;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(pod.dir, ec)) {
    if (const uint32_t i = segment_index(f.path().filename().string()); i != 0) indexes.push_back(i);
  }
  if (ec) return fmt::format("cannot list {}: {}", pod.dir.string(), ec.message());
  std::sort(indexes.begin(), indexes.end());
  std::string buf(1u << 20, '\0');
  for (const uint32_t index : indexes) {
    const fs::path path = pod.dir / segment_file_name(index);
    const UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd) return fmt::format("cannot open {}: {}", path.string(), std::strerror(errno));
    struct stat st {};
    ::fstat(fd.get(), &st);
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (const uint64_t cut = truncate_partial_line(fd.get(), size); cut != 0) {
      log_warn("removed a partial trailing line left by a crash", {{"path", path.string()}, {"bytes", cut}});
      size -= cut;
      ::fdatasync(fd.get());
    }
    // Read line by line; only each line's key prefix is parsed.
    size_t have = 0;
    uint64_t bad = 0;
    for (;;) {
      if (have == buf.size()) buf.resize(buf.size() * 2);  // a line longer than the buffer
      const ssize_t n = ::read(fd.get(), buf.data() + have, buf.size() - have);
      if (n < 0) return fmt::format("cannot read {}: {}", path.string(), std::strerror(errno));
      if (n == 0) break;
      have += static_cast<size_t>(n);
      size_t pos = 0;
      for (;;) {
        const void* nl = std::memchr(buf.data() + pos, '\n', have - pos);
        if (nl == nullptr) break;
        const size_t end = static_cast<size_t>(static_cast<const char*>(nl) - buf.data());
        LineKey key;
        if (parse_line_key(std::string_view(buf.data() + pos, end - pos), key)) {
          auto it = pod.highest.find(key.source_id_json);
          if (it == pod.highest.end()) pod.highest.emplace(std::string(key.source_id_json), key.offset);
          else it->second = std::max(it->second, key.offset);
          ++recovered_lines_;
        } else {
          ++bad;
        }
        pos = end + 1;
      }
      std::memmove(buf.data(), buf.data() + pos, have - pos);
      have -= pos;
    }
    if (bad != 0) log_warn("segment lines without a readable key were skipped", {{"path", path.string()}, {"lines", bad}});
    pod.segment_index = std::max(pod.segment_index, index);
    if (pod.segment_index == index) pod.segment_size = size;
    pod.sizes[index] = size;
    total_bytes_ += size;
  }
  return {};
}

void SegmentStore::for_each_pod(const std::function<void(const PodSegments&)>& visit) const {
  for (const auto& [key, pod] : pods_) visit(PodSegments{key, pod.dir, pod.sizes, pod.segment_index});
}

const std::map<uint32_t, uint64_t>* SegmentStore::segments_of(std::string_view dir_key) const {
  const auto it = pods_.find(dir_key);
  return it == pods_.end() ? nullptr : &it->second.sizes;
}

boost::system::result<uint64_t> SegmentStore::remove_segment(std::string_view dir_key, uint32_t index) {
  const auto it = pods_.find(dir_key);
  if (it == pods_.end()) return uint64_t{0};
  Pod& pod = it->second;
  const auto seg = pod.sizes.find(index);
  if (seg == pod.sizes.end()) return uint64_t{0};
  if (auto ec = save_state(pod)) {
    note_write_error(ec, "saving the dedupe state in " + pod.dir.string());
    return ec;
  }
  const fs::path path = pod.dir / segment_file_name(index);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    const boost::system::error_code ec(errno, boost::system::system_category());
    note_write_error(ec, "deleting " + path.string());
    return ec;
  }
  if (index == pod.segment_index && pod.segment) {
    // Appends go on in a new segment (ensure_segment: the index is gone from sizes).
    open_.erase(pod.lru);
    pod.segment.reset();
  }
  const uint64_t freed = seg->second;
  total_bytes_ -= std::min(total_bytes_, freed);
  pod.sizes.erase(seg);
  room_.notify();
  return freed;
}

SegmentStore::Pod& SegmentStore::pod_for(const v1::Batch& head, std::string_view dir_key) {
  if (dir_key.empty()) pod_key_ = pod_dir_key(label(head, "k8s.namespace.name"), label(head, "k8s.pod.name"));
  else pod_key_ = dir_key;
  auto it = pods_.find(pod_key_);
  if (it != pods_.end()) return it->second;
  Pod& pod = pods_[pod_key_];
  pod.dir = fs::path(options_.data_dir) / pod_key_;
  return pod;
}

boost::system::error_code SegmentStore::ensure_segment(Pod& pod, size_t incoming) {
  const bool full = pod.segment_size > 0 && pod.segment_size + incoming > options_.segment_max_bytes;
  if (pod.segment && !full) return {};
  // A new index when the Pod has none, the segment is full, or its segment was deleted.
  if (pod.segment_index == 0 || full || !pod.sizes.contains(pod.segment_index)) {
    ++pod.segment_index;
    pod.segment_size = 0;
  }
  const bool durable = options_.fsync == FsyncPolicy::always;
  std::error_code fec;
  if (!fs::exists(pod.dir, fec)) {
    fec = make_dirs(options_.data_dir, pod.dir, dir_mode(options_.mode));
    if (fec) return boost::system::error_code(fec.value(), boost::system::system_category());
    if (durable) fsync_dir(pod.dir.parent_path()), fsync_dir(options_.data_dir);
  }
  if (pod.segment) {  // full: the next segment replaces it
    open_.erase(pod.lru);
    pod.segment.reset();
  }
  // Closed segments still waiting for their sync keep their descriptors: sync
  // them now when they are many.
  const size_t limit = std::max<size_t>(options_.max_open_segments, 1);
  if (open_.size() + commit_.dirty_count() >= limit + limit / 2) commit_.sync_dirty_now();
  const fs::path path = pod.dir / segment_file_name(pod.segment_index);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, file_mode(options_.mode)));
  if (!fd) return boost::system::error_code(errno, boost::system::system_category());
  struct stat st {};
  ::fstat(fd.get(), &st);
  if ((st.st_mode & 07777) != file_mode(options_.mode)) ::fchmod(fd.get(), file_mode(options_.mode));
  pod.segment_size = static_cast<uint64_t>(st.st_size);
  pod.sizes.try_emplace(pod.segment_index, pod.segment_size);
  pod.segment = std::make_shared<SegmentFile>(std::move(fd), path.string());
  open_.push_front(&pod);
  pod.lru = open_.begin();
  touch(pod);
  if (durable) fsync_dir(pod.dir);
  return {};
}

void SegmentStore::touch(Pod& pod) {
  if (pod.lru != open_.begin()) open_.splice(open_.begin(), open_, pod.lru);
  while (open_.size() > std::max<size_t>(options_.max_open_segments, 1)) {
    Pod* oldest = open_.back();
    open_.pop_back();
    oldest->segment.reset();  // closed now, or after its pending sync
  }
}

void SegmentStore::note_write_error(const boost::system::error_code& ec, const std::string& what) {
  bump(metrics_.store_errors);
  write_error_ = what + ": " + ec.message();
  log_limited(LogLevel::error, "the store cannot write", {{"error", write_error_}});
}

void SegmentStore::shrink_buffers() {
  if (lines_.capacity() > kKeepBufferBytes) std::string().swap(lines_);
  if (parsed_view_.rendered.capacity() > kKeepBufferBytes) std::string().swap(parsed_view_.rendered);
  if (parsed_view_.owned.capacity() > kKeepBufferBytes) std::string().swap(parsed_view_.owned);
}

AppendResult SegmentStore::append(const v1::Batch& batch, std::string_view dir_key) {
  view_batch(batch, parsed_view_);
  return append(parsed_view_, dir_key);
}

AppendResult SegmentStore::append(const BatchView& batch, std::string_view dir_key) {
  const v1::Batch& head = batch.head;
  bool per_source = false;
  for (const auto& src : head.sources()) per_source = per_source || src.resource_size() > 0;
  if (!per_source || !dir_key.empty()) {
    AppendResult r = append_one(head, batch.entries, batch, dir_key);
    shrink_buffers();
    return r;
  }
  // Split by effective resource: one part per distinct source label set, each
  // with the merged labels as its resource (a source's label wins over the batch's).
  std::vector<std::string> keys;
  std::vector<Part> parts;
  std::vector<std::pair<size_t, uint32_t>> where(static_cast<size_t>(head.sources_size()));  // part, index there
  for (int i = 0; i < head.sources_size(); ++i) {
    const auto& src = head.sources(i);
    std::string key;
    for (const auto& kv : src.resource()) {
      const std::string bytes = kv.SerializeAsString();
      key += std::to_string(bytes.size()) + ':' + bytes;
    }
    auto it = std::find(keys.begin(), keys.end(), key);
    if (it == keys.end()) {
      keys.push_back(std::move(key));
      v1::Batch& part = parts.emplace_back().head;
      part.set_sequence(head.sequence());
      for (const auto& kv : head.resource()) {
        bool overridden = false;
        for (const auto& own : src.resource()) overridden = overridden || own.key() == kv.key();
        if (!overridden) *part.add_resource() = kv;
      }
      for (const auto& own : src.resource()) *part.add_resource() = own;
      it = keys.end() - 1;
    }
    const size_t p = static_cast<size_t>(it - keys.begin());
    where[static_cast<size_t>(i)] = {p, static_cast<uint32_t>(parts[p].head.sources_size())};
    auto* copy = parts[p].head.add_sources();
    copy->set_id(src.id());
    copy->set_path(src.path());
    copy->set_end_offset(src.end_offset());
  }
  for (const auto& e : batch.entries) {
    const auto [p, index] = where[e.key.source_index];
    EntryView& copy = parts[p].entries.emplace_back(e);
    copy.key.source_index = index;
  }
  AppendResult total;
  for (const auto& part : parts) {
    const AppendResult r = append_one(part.head, part.entries, batch, {});
    if (r.ec) {
      shrink_buffers();
      return r;  // nothing acknowledged: a re-sent batch dedupes what was stored
    }
    total.stored += r.stored;
    total.duplicates += r.duplicates;
    total.ticket = std::max(total.ticket, r.ticket);
  }
  shrink_buffers();
  return total;
}

AppendResult SegmentStore::append_one(const v1::Batch& head, const std::vector<EntryView>& entries,
                                      const BatchView& batch, std::string_view dir_key) {
  AppendResult result;
  if (commit_.failed()) {
    result.ec = boost::system::errc::make_error_code(boost::system::errc::io_error);
    return result;
  }
  Pod& pod = pod_for(head, dir_key);

  resource_json_.clear();
  append_key_values_json(resource_json_, head.resource());
  const size_t n_sources = static_cast<size_t>(head.sources_size());
  if (source_ids_.size() < n_sources) source_ids_.resize(n_sources), frames_.resize(n_sources);
  cursors_.assign(n_sources, Cursor{});
  for (size_t i = 0; i < n_sources; ++i) {
    const auto& src = head.sources(static_cast<int>(i));
    source_ids_[i].clear();
    append_json_string(source_ids_[i], src.id());
    path_json_.clear();
    append_json_string(path_json_, src.path());
    build_frame(LineContext{source_ids_[i], path_json_, resource_json_}, frames_[i]);
    if (auto it = pod.highest.find(source_ids_[i]); it != pod.highest.end()) {
      cursors_[i] = Cursor{&it->second, it->second, true, false};
    }
  }
  // Two sources of one batch may render to the same id: they then share the first one's cursor.
  alias_.clear();
  if (n_sources > 1) {
    alias_.resize(n_sources);
    first_index_.clear();
    for (size_t i = 0; i < n_sources; ++i) alias_[i] = first_index_.try_emplace(source_ids_[i], i).first->second;
  }
  lines_.clear();
  for (const auto& entry : entries) {
    const size_t i = entry.key.source_index;
    Cursor& c = cursors_[alias_.empty() ? i : alias_[i]];
    if (c.known && entry.key.offset <= c.high) {
      ++result.duplicates;
      continue;
    }
    c.known = true;
    c.high = entry.key.offset;
    c.advanced = true;
    append_line(lines_, batch, entry, frames_[i]);
    ++result.stored;
  }
  if (result.stored == 0) {
    result.ticket = commit_.last_ticket();  // the earlier copies may still be syncing
    bump(metrics_.duplicates_dropped, result.duplicates);
    return result;
  }

  if (auto ec = ensure_segment(pod, lines_.size())) {
    if (ec.value() == EMFILE || ec.value() == ENFILE) {
      // Out of descriptors: close the other segments and try once more.
      while (!open_.empty() && open_.back() != &pod) {
        open_.back()->segment.reset();
        open_.pop_back();
      }
      commit_.sync_dirty_now();
      ec = ensure_segment(pod, lines_.size());
    }
    if (ec) {
      note_write_error(ec, "opening a segment in " + pod.dir.string());
      return AppendResult{ec};
    }
  } else {
    touch(pod);
  }
  size_t done = 0;
  while (done < lines_.size()) {
    const ssize_t n = ::write(pod.segment->fd(), lines_.data() + done, lines_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      // Leave no partial line behind: cut back to where this batch began.
      const std::string path = pod.segment->path();
      if (::ftruncate(pod.segment->fd(), static_cast<off_t>(pod.segment_size)) != 0) {
        open_.erase(pod.lru);
        pod.segment.reset();
      }
      const boost::system::error_code ec(err, boost::system::system_category());
      note_write_error(ec, "writing " + path);
      return AppendResult{ec};
    }
    done += static_cast<size_t>(n);
  }
  pod.segment_size += lines_.size();
  pod.sizes[pod.segment_index] = pod.segment_size;
  total_bytes_ += lines_.size();
  write_error_.clear();
  bump(metrics_.bytes_written, lines_.size());
  bump(metrics_.entries_stored, result.stored);
  bump(metrics_.duplicates_dropped, result.duplicates);

  for (size_t i = 0; i < n_sources; ++i) {
    const Cursor& c = cursors_[i];
    if (!c.advanced) continue;
    if (c.slot != nullptr) *c.slot = c.high;
    else pod.highest.emplace(source_ids_[i], c.high);
  }
  result.ticket = commit_.written(pod.segment);
  appended_.notify();
  return result;
}

void SegmentStore::close() {
  commit_.stop();
  for (auto& [key, pod] : pods_) {
    if (pod.segment) ::fdatasync(pod.segment->fd());
    pod.segment.reset();
  }
  open_.clear();
}

std::optional<uint64_t> SegmentStore::highest_offset(std::string_view ns, std::string_view pod,
                                                     std::string_view source_id) const {
  return highest_offset_at(pod_dir_key(ns, pod), source_id);
}

std::optional<uint64_t> SegmentStore::highest_offset_at(std::string_view dir_key, std::string_view source_id) const {
  const auto it = pods_.find(dir_key);
  if (it == pods_.end()) return std::nullopt;
  std::string id;
  append_json_string(id, source_id);
  const auto s = it->second.highest.find(id);
  if (s == it->second.highest.end()) return std::nullopt;
  return s->second;
}

}  // namespace logferry::aggregator
