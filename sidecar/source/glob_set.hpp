#pragma once
// A set of path globs ("*", "?", "[...]" within one path segment, "**" for any
// number of segments) used to find the files to tail and the files to skip.
#include <string>
#include <string_view>
#include <vector>

namespace logferry {

class GlobSet {
 public:
  GlobSet() = default;
  explicit GlobSet(std::vector<std::string> patterns);

  // True when `path` (absolute or relative, as produced by scan()) matches a pattern.
  bool matches(std::string_view path) const;
  bool empty() const { return patterns_.empty(); }

  // Lists the regular files matching any pattern, and every directory visited
  // (the ones to watch for new files). Unreadable directories are skipped.
  // With `special`, matching entries that are not regular files themselves
  // (symbolic links, FIFOs, sockets, devices) go there instead, never into
  // `files`: nothing is followed. Without it, a link to a regular file counts
  // as one. Directory links are never descended into.
  void scan(std::vector<std::string>& files, std::vector<std::string>& directories,
            std::vector<std::string>* special = nullptr) const;

 private:
  struct Pattern {
    std::string text;
    std::vector<std::string> segments;
    std::string base;        // leading segments without wildcards
    size_t depth = 0;        // segments after the base; 0 with "**" = unlimited
    bool recursive = false;  // contains "**"
  };
  std::vector<Pattern> patterns_;
};

}  // namespace logferry
