#include "sidecar/checkpoint/file_checkpoint_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <span>
#include <utility>

#include <fmt/format.h>
#include <zlib.h>

#include "sidecar/core/json_escape.hpp"
#include "sidecar/core/private_dir.hpp"
#include "sidecar/core/replace_file.hpp"
#include "sidecar/core/unique_fd.hpp"

namespace logferry {
namespace {

namespace sys = boost::system;

constexpr std::string_view kMagic = "logferry-checkpoints 1";
constexpr std::string_view kSlotMagic = "logferry-checkpoint-slot ";
constexpr uint64_t kMinSlotBytes = 4096;

uint32_t crc_of(std::string_view text) {
  return static_cast<uint32_t>(::crc32(::crc32(0, nullptr, 0), reinterpret_cast<const Bytef*>(text.data()),
                                       static_cast<uInt>(text.size())));
}

std::string percent_encode(std::string_view s) {
  std::string out;
  for (const unsigned char c : s) {
    if (c <= 0x20 || c == '%' || c >= 0x7F) out += fmt::format("%{:02X}", c);
    else out.push_back(static_cast<char>(c));
  }
  return out;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
    if (ec != std::errc{} || p != s.data() + i + 3) return std::nullopt;
    out.push_back(static_cast<char>(v));
    i += 2;
  }
  return out;
}

// Splits `line` at single spaces into exactly out.size() fields (the last one
// holds no space); false when the count differs.
bool split_fields(std::string_view line, std::span<std::string_view> out) {
  for (size_t i = 0; i < out.size(); ++i) {
    const size_t sp = line.find(' ');
    if ((sp == std::string_view::npos) != (i + 1 == out.size())) return false;
    out[i] = line.substr(0, sp);
    line.remove_prefix(sp == std::string_view::npos ? line.size() : sp + 1);
  }
  return true;
}

template <class T>
bool parse_number(std::string_view s, T& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc{} && p == s.data() + s.size();
}

std::optional<std::string> read_file(const std::string& path, sys::error_code& ec) {
  // The directory may be shared with the app: a link, a FIFO or anything but
  // a regular file there is not a checkpoint (not followed, not waited on).
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd) {
    if (errno != ENOENT && errno != ELOOP) ec = sys::error_code(errno, sys::system_category());
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return std::nullopt;
  }
  std::string data;
  char buf[65536];
  while (true) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ec = sys::error_code(errno, sys::system_category());
      return std::nullopt;
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

}  // namespace

FileCheckpointStore::FileCheckpointStore(std::string dir)
    : dir_(std::move(dir)),
      path_(dir_ + "/checkpoints.v1"),
      temp_path_(path_ + ".new"),
      slots_path_(dir_ + "/checkpoints.slots"),
      slots_temp_path_(slots_path_ + ".new") {}

std::string FileCheckpointStore::slot_image(uint64_t sequence, std::string_view text) {
  std::string out = fmt::format("{}{} {} {:08x}\n", kSlotMagic, sequence, text.size(), crc_of(text));
  out.append(text);
  return out;
}

std::optional<std::pair<uint64_t, std::string>> FileCheckpointStore::newest_slot(std::string_view file) {
  std::optional<std::pair<uint64_t, std::string>> best;
  if (file.empty() || file.size() % 2 != 0) return best;
  const size_t slot_size = file.size() / 2;
  for (size_t i = 0; i < 2; ++i) {
    std::string_view slot = file.substr(i * slot_size, slot_size);
    const size_t nl = slot.find('\n');
    if (!slot.starts_with(kSlotMagic) || nl == std::string_view::npos) continue;
    std::string_view fields[3];
    if (!split_fields(slot.substr(kSlotMagic.size(), nl - kSlotMagic.size()), fields)) continue;
    uint64_t sequence = 0;
    size_t length = 0;
    uint32_t crc = 0;
    auto [p, ec] = std::from_chars(fields[2].data(), fields[2].data() + fields[2].size(), crc, 16);
    if (!parse_number(fields[0], sequence) || !parse_number(fields[1], length) || ec != std::errc{} ||
        p != fields[2].data() + fields[2].size() || fields[2].empty() || length > slot.size() - nl - 1) {
      continue;
    }
    const std::string_view text = slot.substr(nl + 1, length);
    if (crc_of(text) != crc) continue;  // torn
    if (!best || sequence > best->first) best.emplace(sequence, std::string(text));
  }
  return best;
}

std::string FileCheckpointStore::serialize(const std::vector<CheckpointRecord>& records) {
  std::string out(kMagic);
  out.push_back('\n');
  for (const auto& r : records) {
    out += fmt::format("{} {} {} {} {} {} {}\n", percent_encode(r.id), r.device, r.inode, r.head_length, r.head_hash,
                       r.offset, percent_encode(r.path));
  }
  out += fmt::format("end {}\n", records.size());
  return out;
}

std::optional<std::vector<CheckpointRecord>> FileCheckpointStore::parse(std::string_view text) {
  std::vector<CheckpointRecord> records;
  size_t line_no = 0;
  bool ended = false;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;  // torn: every line ends with \n
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    if (ended) return std::nullopt;  // nothing may follow "end"
    if (line_no++ == 0) {
      if (line != kMagic) return std::nullopt;
      continue;
    }
    if (line.starts_with("end ")) {
      size_t count = 0;
      if (!parse_number(line.substr(4), count) || count != records.size()) return std::nullopt;
      ended = true;
      continue;
    }
    std::string_view fields[7];
    if (!split_fields(line, fields)) return std::nullopt;
    CheckpointRecord r;
    auto id = percent_decode(fields[0]);
    auto path = percent_decode(fields[6]);
    if (!id || !path || id->empty() || !parse_number(fields[1], r.device) || !parse_number(fields[2], r.inode) ||
        !parse_number(fields[3], r.head_length) || !parse_number(fields[4], r.head_hash) ||
        !parse_number(fields[5], r.offset)) {
      return std::nullopt;
    }
    // The file may have been written by anyone sharing the directory.
    r.id = utf8_repaired(*id);
    r.path = utf8_repaired(*path);
    records.push_back(std::move(r));
  }
  if (!ended) return std::nullopt;
  return records;
}

boost::system::result<std::vector<CheckpointRecord>> FileCheckpointStore::load() {
  sys::error_code ec;
  if (auto slots = read_file(slots_path_, ec)) {
    if (auto newest = newest_slot(*slots)) {
      if (auto parsed = parse(newest->second)) {
        sequence_ = std::max(sequence_, newest->first);
        return *parsed;
      }
    }
  }
  if (ec) return ec;
  // No usable slots: the text file of an earlier version, if any.
  if (auto main = read_file(path_, ec)) {
    if (auto parsed = parse(*main)) return *parsed;
  }
  if (ec) return ec;
  // The main file is missing or torn: a crash may have happened after the new
  // file was complete but before the rename.
  if (auto temp = read_file(temp_path_, ec)) {
    if (auto parsed = parse(*temp)) return *parsed;
  }
  if (ec) return ec;
  return std::vector<CheckpointRecord>{};
}

sys::error_code FileCheckpointStore::rebuild(const std::string& text, Durability durability) {
  slots_.reset();
  const std::string image = slot_image(sequence_, text);
  slot_size_ = std::max<uint64_t>(kMinSlotBytes, (2 * image.size() + kMinSlotBytes - 1) / kMinSlotBytes * kMinSlotBytes);
  std::string file = image;
  file.resize(slot_size_, '\0');
  file += image;
  file.resize(2 * slot_size_, '\0');
  // Mode 0600 whatever the umask; the file and its directory synced for a node crash.
  const FileSync sync = durability == Durability::node_crash ? FileSync::file_and_directory : FileSync::none;
  if (auto ec = replace_file(slots_path_, slots_temp_path_, file, {kPrivateFileMode, sync, FileModeUmask::ignored})) {
    return ec;
  }
  // Opened after the rename: never through a link or anything but the regular file just made.
  UniqueFd fd(::open(slots_path_.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  struct stat st {};
  if (fd && ::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode)) slots_ = std::move(fd);
  return {};  // saved; without a descriptor the next save rebuilds again
}

sys::error_code FileCheckpointStore::save(const std::vector<CheckpointRecord>& records, Durability durability) {
  const std::string text = serialize(records);
  ++sequence_;
  const std::string image = slot_image(sequence_, text);
  if (!slots_ || image.size() > slot_size_) return rebuild(text, durability);
  // The older of the two slots: the newer one stays whole whatever happens to this write.
  const auto at = static_cast<off_t>((sequence_ % 2) * slot_size_);
  std::string_view left = image;
  for (off_t pos = at; !left.empty();) {
    const ssize_t n = ::pwrite(slots_.get(), left.data(), left.size(), pos);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const sys::error_code ec(n < 0 ? errno : ENOSPC, sys::system_category());
      slots_.reset();  // the next save rebuilds the file
      return ec;
    }
    left.remove_prefix(static_cast<size_t>(n));
    pos += n;
  }
  if (durability == Durability::node_crash && ::fdatasync(slots_.get()) != 0) {
    const sys::error_code ec(errno, sys::system_category());
    slots_.reset();
    return ec;
  }
  return {};
}

}  // namespace logferry
