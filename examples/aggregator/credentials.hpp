#pragma once
// Which namespaces a client may write, bound to its credential: the
// credentials file (LOGFERRY_AGGREGATOR_CREDENTIALS_FILE) maps the SHA-256 of
// each token to namespace glob patterns, one line per token:
//
//   # comment
//   sha256:<64 hex digits>  team-a,team-a-*
//
// The single LOGFERRY_AGGREGATOR_TOKEN(_FILE) token, and no token at all,
// grant every namespace. Reserved namespaces (the audit store's "_audit") are
// granted to nobody.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "logferry/v1/logferry.pb.h"

namespace logferry::aggregator {

// The namespaces a client may write.
class NamespaceGrant {
 public:
  // Every namespace (reserved ones excepted).
  NamespaceGrant() = default;
  // Namespaces matching one of `globs` (fnmatch patterns: *, ?, [...]).
  explicit NamespaceGrant(std::vector<std::string> globs) : globs_(std::move(globs)), all_(false) {}
  bool allows(std::string_view ns) const;
  // The patterns, for messages ("*" for every namespace).
  std::string describe() const;

 private:
  std::vector<std::string> globs_;
  bool all_ = true;
};

// True for namespaces no client may write: "_audit".
bool reserved_namespace(std::string_view ns);

// "" when every source's namespace (k8s.namespace.name of the batch, or of the
// source's own resource, which extends it) is granted; else why not.
std::string check_namespaces(const v1::Batch& head, const NamespaceGrant& grant);

// The parsed credentials file, re-read when it changes (size, mtime or identity).
class Credentials {
 public:
  explicit Credentials(std::string path) : path_(std::move(path)) {}
  // Reads the file; "" or what is wrong with it (line numbers included).
  std::string load();
  // The grant of `token`, re-reading the file first when it changed (a bad
  // new version is logged and the last good one kept); nullopt when unknown.
  std::optional<NamespaceGrant> find(std::string_view token);
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::array<unsigned char, 32> hash{};
    NamespaceGrant grant;
  };
  struct Stamp {
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const Stamp&) const = default;
  };
  std::string path_;
  Stamp stamp_;
  std::vector<Entry> entries_;
};

// Parses credentials file text into (hash, grant) pairs; "" or the first error.
std::string parse_credentials(std::string_view text, std::vector<std::pair<std::array<unsigned char, 32>, NamespaceGrant>>& out);

}  // namespace logferry::aggregator
