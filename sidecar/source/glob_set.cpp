#include "sidecar/source/glob_set.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
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

void GlobSet::scan(std::vector<std::string>& files, std::vector<std::string>& directories,
                   std::vector<std::string>* special) const {
  std::set<std::string> seen_files;
  std::set<std::string> seen_dirs;
  for (const auto& p : patterns_) {
    std::error_code ec;
    if (!fs::is_directory(p.base, ec)) continue;
    if (seen_dirs.insert(p.base).second) directories.push_back(p.base);
    const size_t max_depth = p.recursive ? kMaxRecursion : p.depth;
    auto it = fs::recursive_directory_iterator(p.base, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const auto& entry = *it;
      const std::string path = entry.path().string();
      std::error_code sec;
      if (special && !entry.is_directory(sec) && !entry.is_regular_file(sec) && !entry.is_symlink(sec)) {
        // A FIFO, socket or device: reported, never opened by a scan.
        if (match_segments(p.segments, 0, split_segments(path), 0) && seen_files.insert(path).second) {
          special->push_back(path);
        }
        continue;
      }
      if (special && entry.is_symlink(sec)) {
        // Not followed (its target may be anything the app chose, a directory included).
        if (match_segments(p.segments, 0, split_segments(path), 0) && seen_files.insert(path).second) {
          special->push_back(path);
        }
        continue;
      }
      if (entry.is_directory(sec)) {
        if (static_cast<size_t>(it.depth()) + 1 >= max_depth || entry.is_symlink(sec)) {
          it.disable_recursion_pending();
        }
        if (seen_dirs.insert(path).second) directories.push_back(path);
        continue;
      }
      if (!entry.is_regular_file(sec)) continue;
      if (match_segments(p.segments, 0, split_segments(path), 0) && seen_files.insert(path).second) {
        files.push_back(path);
      }
    }
  }
}

}  // namespace logferry
