#pragma once
// A set of path globs ("*", "?", "[...]" within one path segment, "**" for any
// number of segments) used to find the files to tail and the files to skip.
#include <sys/types.h>

#include <chrono>
#include <ctime>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace logferry {

// The listings of the directories a scan visits, kept between scans: a
// directory whose inode, mtime and ctime are what they were when it was last
// listed is not listed again (one stat instead of opening and reading it), as
// long as those times were already `settle` old at that listing. File times
// come from a coarse clock: an entry added in the same tick as an earlier
// change would leave the mtime as it was, so a directory changed moments before
// its listing is listed again on the next scan.
class DirListings {
 public:
  enum class Kind { directory, regular, link, other };
  struct Entry {
    std::string name;
    Kind kind;
  };

  explicit DirListings(std::chrono::nanoseconds settle = std::chrono::seconds(2)) : settle_(settle) {}

  // The entries of `dir` (following a link to it), or nullptr when it is not a
  // readable directory. Valid until the next call.
  const std::vector<Entry>* list(const std::string& dir);
  // Listings not asked for since the last call are dropped (directories gone).
  void forget_unused();
  // How many times a directory was read (not served from an earlier listing).
  uint64_t listed() const { return listed_; }

 private:
  struct Listing {
    dev_t dev = 0;
    ino_t ino = 0;
    timespec mtime{};
    timespec ctime{};
    bool reusable = false;
    bool used = false;
    std::vector<Entry> entries;
  };
  std::chrono::nanoseconds settle_;
  std::unordered_map<std::string, Listing> listings_;
  uint64_t listed_ = 0;
};

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
  // as one. Directory links are never descended into. With `listings`,
  // directories unchanged since the previous scan are not read again.
  void scan(std::vector<std::string>& files, std::vector<std::string>& directories,
            std::vector<std::string>* special = nullptr, DirListings* listings = nullptr) const;

 private:
  struct Pattern {
    std::string text;
    std::vector<std::string> segments;
    std::string base;        // leading segments without wildcards
    size_t depth = 0;        // segments after the base; 0 with "**" = unlimited
    bool recursive = false;  // contains "**"
  };
  struct Walk;
  void walk(const Pattern& p, const std::string& dir, size_t depth, size_t max_depth, Walk& w) const;
  std::vector<Pattern> patterns_;
};

}  // namespace logferry
