#include "sidecar/source/glob_set.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>

namespace logferry {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxRecursion = 32;

std::vector<std::string> split_segments(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    if (end > start) out.emplace_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

bool same_time(const timespec& a, const timespec& b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

std::chrono::nanoseconds since_epoch(const timespec& t) {
  return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
}

DirListings::Kind kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return DirListings::Kind::directory;
  if (S_ISREG(mode)) return DirListings::Kind::regular;
  if (S_ISLNK(mode)) return DirListings::Kind::link;
  return DirListings::Kind::other;
}

std::string child_path(const std::string& dir, const std::string& name) {
  return dir.ends_with('/') ? dir + name : dir + "/" + name;
}

bool has_wildcard(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

bool match_segments(const std::vector<std::string>& pat, size_t pi, const std::vector<std::string>& path, size_t si) {
  while (pi < pat.size()) {
    if (pat[pi] == "**") {
      // "**" matches zero or more segments.
      for (size_t k = si; k <= path.size(); ++k) {
        if (match_segments(pat, pi + 1, path, k)) return true;
      }
      return false;
    }
    if (si >= path.size()) return false;
    if (::fnmatch(pat[pi].c_str(), path[si].c_str(), 0) != 0) return false;
    ++pi, ++si;
  }
  return si == path.size();
}

}  // namespace

GlobSet::GlobSet(std::vector<std::string> patterns) {
  for (auto& given : patterns) {
    // Relative globs are taken relative to the working directory at start-up.
    std::error_code aec;
    const std::string text = given.empty() || given.front() == '/' ? given : fs::absolute(given, aec).string();
    Pattern p;
    p.text = text;
    p.segments = split_segments(text);
    std::string base = "/";
    size_t i = 0;
    for (; i < p.segments.size() && !has_wildcard(p.segments[i]); ++i) {
      // The last segment is the file name itself: keep it out of the base dir.
      if (i + 1 == p.segments.size()) break;
      if (!base.empty() && base.back() != '/') base.push_back('/');
      base += p.segments[i];
    }
    p.base = base;
    p.recursive = std::find(p.segments.begin(), p.segments.end(), "**") != p.segments.end();
    p.depth = p.segments.size() - i;
    patterns_.push_back(std::move(p));
  }
}

bool GlobSet::matches(std::string_view path) const {
  const auto segs = split_segments(path);
  for (const auto& p : patterns_) {
    if (match_segments(p.segments, 0, segs, 0)) return true;
  }
  return false;
}

const std::vector<DirListings::Entry>* DirListings::list(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    listings_.erase(dir);
    return nullptr;
  }
  Listing& l = listings_[dir];
  if (l.used) return &l.entries;  // listed or checked already in this scan
  l.used = true;
  if (l.reusable && l.dev == st.st_dev && l.ino == st.st_ino && same_time(l.mtime, st.st_mtim) &&
      same_time(l.ctime, st.st_ctim)) {
    return &l.entries;
  }
  const std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), &::closedir);
  l.reusable = false;
  if (!d) {
    listings_.erase(dir);
    return nullptr;  // unreadable: skipped, as before
  }
  ++listed_;
  l.entries.clear();
  while (const dirent* e = ::readdir(d.get())) {
    const std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    Kind kind = Kind::other;
    switch (e->d_type) {
      case DT_DIR: kind = Kind::directory; break;
      case DT_REG: kind = Kind::regular; break;
      case DT_LNK: kind = Kind::link; break;
      case DT_UNKNOWN: {
        struct stat est {};
        if (::fstatat(::dirfd(d.get()), e->d_name, &est, AT_SYMLINK_NOFOLLOW) != 0) continue;
        kind = kind_of(est.st_mode);
        break;
      }
      default: break;
    }
    l.entries.push_back(Entry{std::string(name), kind});
  }
  l.dev = st.st_dev;
  l.ino = st.st_ino;
  l.mtime = st.st_mtim;
  l.ctime = st.st_ctim;
  timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const auto changed = std::max(since_epoch(st.st_mtim), since_epoch(st.st_ctim));
  l.reusable = since_epoch(now) - changed >= settle_;
  return &l.entries;
}

void DirListings::forget_unused() {
  std::erase_if(listings_, [](const auto& kv) { return !kv.second.used; });
  for (auto& [dir, l] : listings_) l.used = false;
}

struct GlobSet::Walk {
  DirListings& listings;
  std::vector<std::string>& files;
  std::vector<std::string>& directories;
  std::vector<std::string>* special;
  std::set<std::string> seen_files;
  std::set<std::string> seen_dirs;
};

void GlobSet::walk(const Pattern& p, const std::string& dir, size_t depth, size_t max_depth, Walk& w) const {
  // By reference: the map keeps its elements in place, and no directory below
  // this one is this one (links are not descended into).
  const auto* entries = w.listings.list(dir);
  if (entries == nullptr) return;
  for (const auto& entry : *entries) {
    const std::string path = child_path(dir, entry.name);
    auto matches_here = [&] { return match_segments(p.segments, 0, split_segments(path), 0); };
    using Kind = DirListings::Kind;
    Kind kind = entry.kind;
    if (w.special && (kind == Kind::other || kind == Kind::link)) {
      // A FIFO, socket, device or link: reported, never opened or followed by a scan.
      if (matches_here() && w.seen_files.insert(path).second) w.special->push_back(path);
      continue;
    }
    bool link = false;
    if (kind == Kind::link) {
      // Without `special`, a link counts as what it leads to (never descended into).
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) continue;
      kind = kind_of(st.st_mode);
      link = true;
    }
    if (kind == Kind::directory) {
      if (w.seen_dirs.insert(path).second) w.directories.push_back(path);
      if (!link && depth + 1 < max_depth) walk(p, path, depth + 1, max_depth, w);
      continue;
    }
    if (kind != Kind::regular) continue;
    if (matches_here() && w.seen_files.insert(path).second) w.files.push_back(path);
  }
}

void GlobSet::scan(std::vector<std::string>& files, std::vector<std::string>& directories,
                   std::vector<std::string>* special, DirListings* listings) const {
  DirListings once;  // without a cache: every directory is read
  Walk w{listings != nullptr ? *listings : once, files, directories, special, {}, {}};
  for (const auto& p : patterns_) {
    if (w.listings.list(p.base) == nullptr) continue;  // walk() below gets the same listing
    if (w.seen_dirs.insert(p.base).second) directories.push_back(p.base);
    walk(p, p.base, 0, p.recursive ? kMaxRecursion : p.depth, w);
  }
  w.listings.forget_unused();
}

}  // namespace logferry
