#include "sidecar/checkpoint/file_checkpoint_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include <fmt/format.h>

#include "sidecar/core/json_escape.hpp"
#include "sidecar/core/private_dir.hpp"
#include "sidecar/core/replace_file.hpp"
#include "sidecar/core/unique_fd.hpp"

namespace logferry {
namespace {

namespace sys = boost::system;

constexpr std::string_view kMagic = "logferry-checkpoints 1";

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
    : dir_(std::move(dir)), path_(dir_ + "/checkpoints.v1"), temp_path_(path_ + ".new") {}

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
    std::string_view rest = line;
    for (int i = 0; i < 7; ++i) {
      const size_t sp = rest.find(' ');
      if ((sp == std::string_view::npos) != (i == 6)) return std::nullopt;
      fields[i] = rest.substr(0, sp);
      if (sp != std::string_view::npos) rest.remove_prefix(sp + 1);
    }
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

sys::error_code FileCheckpointStore::save(const std::vector<CheckpointRecord>& records, Durability durability) {
  // Mode 0600 whatever the umask; the file and its directory synced for a node crash.
  const FileSync sync = durability == Durability::node_crash ? FileSync::file_and_directory : FileSync::none;
  return replace_file(path_, temp_path_, serialize(records), {kPrivateFileMode, sync, FileModeUmask::ignored});
}

}  // namespace logferry
